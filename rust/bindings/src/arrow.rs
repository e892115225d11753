//! The graph as one Arrow record batch: a row per node with its properties
//! and its forward adjacency lists. Columns wrap the core's buffers, so
//! export and import (of a memory-mapped file) copy nothing.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, LargeListArray, PrimitiveArray, RecordBatch,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use astrograph_core::{CoreError, Graph, GraphMeta};

use crate::inputs::los_name;

pub const FORMAT: &str = "astrograph-neighbour-graph";
/// Version 2: the MPI buffer flag is the column `buffer`, `region` holds the
/// jackknife region (uint32) with `n_regions` in the metadata, and the box
/// size is under `boxsize`. Version 3 (graphs of two tracers only, so that
/// no older reader takes one for a single tracer): the node column `tracer`.
pub const VERSION: &str = "2";
pub const VERSION_TRACERS: &str = "3";

fn prim<T: ArrowPrimitiveType>(b: &ScalarBuffer<T::Native>) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(b.clone(), None))
}

fn list(offsets: &OffsetBuffer<i64>, values: ArrayRef, item: DataType) -> ArrayRef {
    let field = Arc::new(Field::new("item", item, false));
    Arc::new(LargeListArray::new(field, offsets.clone(), values, None))
}

pub fn to_batch(g: &Graph) -> RecordBatch {
    let m = &g.meta;
    let offsets = OffsetBuffer::new(g.offsets.clone());
    let mut fields = vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
        Field::new("z", DataType::Float64, false),
        Field::new("weight", DataType::Float64, false),
        Field::new("is_random", DataType::UInt8, false),
        Field::new("index", DataType::UInt64, false),
        Field::new("buffer", DataType::UInt8, false),
        Field::new("region", DataType::UInt32, false),
        Field::new("degree", DataType::UInt32, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        prim::<Float64Type>(&g.x),
        prim::<Float64Type>(&g.y),
        prim::<Float64Type>(&g.z),
        prim::<Float64Type>(&g.weight),
        prim::<UInt8Type>(&g.is_random),
        prim::<UInt64Type>(&g.index),
        prim::<UInt8Type>(&g.buffer),
        prim::<UInt32Type>(&g.region),
        prim::<UInt32Type>(&g.degree),
    ];
    if let Some(t) = &g.tracer {
        fields.push(Field::new("tracer", DataType::UInt8, false));
        cols.push(prim::<UInt8Type>(t));
    }
    let mut add_list = |name: &str, values: ArrayRef, item: DataType| {
        let col = list(&offsets, values, item.clone());
        fields.push(Field::new(name, col.data_type().clone(), false));
        cols.push(col);
    };
    add_list(
        "neighbours",
        prim::<UInt32Type>(&g.neighbours),
        DataType::UInt32,
    );
    add_list(
        "separation",
        prim::<Float32Type>(&g.separation),
        DataType::Float32,
    );
    if let Some(mu) = &g.mu {
        add_list("mu", prim::<Float16Type>(mu), DataType::Float16);
    }
    let meta: HashMap<String, String> = [
        ("astrograph.format", FORMAT.to_string()),
        (
            "astrograph.version",
            if g.tracer.is_some() {
                VERSION_TRACERS
            } else {
                VERSION
            }
            .to_string(),
        ),
        ("rmin", m.rmin.to_string()),
        ("rmax", m.rmax.to_string()),
        (
            "boxsize",
            m.boxsize.map_or(String::new(), |b| b.to_string()),
        ),
        ("los", los_name(m.los).to_string()),
        ("n_data", m.n_data.to_string()),
        ("n_random", m.n_random.to_string()),
        ("n_regions", m.n_regions.to_string()),
        ("n_edges", g.n_edges().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, meta));
    RecordBatch::try_new(schema, cols).expect("graph columns are consistent")
}

fn corrupt(msg: impl Into<String>) -> CoreError {
    CoreError::CorruptGraph(msg.into())
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, CoreError> {
    let col = b
        .column_by_name(name)
        .ok_or_else(|| corrupt(format!("no column {name:?}")))?;
    if col.null_count() != 0 {
        return Err(corrupt(format!("column {name:?} has nulls")));
    }
    Ok(col)
}

fn values<T: ArrowPrimitiveType>(
    b: &RecordBatch,
    name: &str,
) -> Result<ScalarBuffer<T::Native>, CoreError> {
    let col = column(b, name)?;
    if col.data_type() != &T::DATA_TYPE {
        return Err(corrupt(format!(
            "column {name:?} is {} but should be {}",
            col.data_type(),
            T::DATA_TYPE
        )));
    }
    Ok(col.as_primitive::<T>().values().clone())
}

/// Offsets and values of a list column, rebased when the array is a slice.
fn list_values<T: ArrowPrimitiveType>(
    b: &RecordBatch,
    name: &str,
) -> Result<(ScalarBuffer<i64>, ScalarBuffer<T::Native>), CoreError> {
    let col = column(b, name)?;
    let l = col.as_list_opt::<i64>().ok_or_else(|| {
        corrupt(format!(
            "column {name:?} is {}, not a large list",
            col.data_type()
        ))
    })?;
    let vals = l.values();
    if vals.data_type() != &T::DATA_TYPE || vals.null_count() != 0 {
        return Err(corrupt(format!(
            "list column {name:?} should hold non-null {}",
            T::DATA_TYPE
        )));
    }
    let offs = l.offsets().inner().clone();
    let (start, end) = (offs[0] as usize, offs[offs.len() - 1] as usize);
    let v = vals.as_primitive::<T>().values().slice(start, end - start);
    if start == 0 {
        Ok((offs, v))
    } else {
        Ok((offs.iter().map(|o| o - start as i64).collect(), v))
    }
}

fn meta_value<'a>(meta: &'a HashMap<String, String>, key: &str) -> Result<&'a str, CoreError> {
    meta.get(key)
        .map(String::as_str)
        .ok_or_else(|| corrupt(format!("metadata key {key:?} is missing")))
}

fn parse<T: std::str::FromStr>(meta: &HashMap<String, String>, key: &str) -> Result<T, CoreError> {
    let v = meta_value(meta, key)?;
    v.parse()
        .map_err(|_| corrupt(format!("metadata {key} = {v:?} is not a number")))
}

pub fn from_batch(b: &RecordBatch) -> Result<Graph, CoreError> {
    let meta = b.schema_ref().metadata();
    if meta.get("astrograph.format").map(String::as_str) != Some(FORMAT) {
        return Err(corrupt(
            "not an astrograph neighbour graph (format tag missing)",
        ));
    }
    let version = meta_value(meta, "astrograph.version")?;
    if version != VERSION && version != VERSION_TRACERS {
        return Err(corrupt(format!(
            "graph format version {version} is not supported (this astrograph reads versions \
             {VERSION} and {VERSION_TRACERS})"
        )));
    }
    let tracer = if version == VERSION_TRACERS {
        Some(values::<UInt8Type>(b, "tracer")?)
    } else {
        None
    };
    let boxsize = match meta_value(meta, "boxsize")? {
        "" => None,
        _ => Some(parse::<f64>(meta, "boxsize")?),
    };
    let los = match astrograph_core::Los::from_name(meta_value(meta, "los")?) {
        Ok(l) if l.is_symmetric() => l,
        _ => return Err(corrupt("unknown line of sight")),
    };
    let (offsets, neighbours) = list_values::<UInt32Type>(b, "neighbours")?;
    let (sep_offsets, separation) = list_values::<Float32Type>(b, "separation")?;
    let mu = if b.column_by_name("mu").is_some() {
        let (mu_offsets, mu) = list_values::<Float16Type>(b, "mu")?;
        if mu_offsets != offsets {
            return Err(corrupt("mu lists do not line up with the neighbour lists"));
        }
        Some(mu)
    } else {
        None
    };
    if sep_offsets != offsets {
        return Err(corrupt(
            "separation lists do not line up with the neighbour lists",
        ));
    }
    let g = Graph {
        meta: GraphMeta {
            rmin: parse(meta, "rmin")?,
            rmax: parse(meta, "rmax")?,
            boxsize,
            los,
            n_data: parse(meta, "n_data")?,
            n_random: parse(meta, "n_random")?,
            n_regions: parse(meta, "n_regions")?,
        },
        x: values::<Float64Type>(b, "x")?,
        y: values::<Float64Type>(b, "y")?,
        z: values::<Float64Type>(b, "z")?,
        weight: values::<Float64Type>(b, "weight")?,
        is_random: values::<UInt8Type>(b, "is_random")?,
        index: values::<UInt64Type>(b, "index")?,
        buffer: values::<UInt8Type>(b, "buffer")?,
        region: values::<UInt32Type>(b, "region")?,
        degree: values::<UInt32Type>(b, "degree")?,
        tracer,
        offsets,
        neighbours,
        separation,
        mu,
    };
    if g.meta.n_regions as usize > astrograph_core::Regions::MAX {
        return Err(corrupt(format!(
            "metadata names {} jackknife regions, more than the {} a count accepts",
            g.meta.n_regions,
            astrograph_core::Regions::MAX
        )));
    }
    if g.meta.metric().is_err() || !(g.meta.rmin >= 0.0 && g.meta.rmin < g.meta.rmax) {
        return Err(corrupt(
            "metadata describes an impossible search (rmin, rmax, box, los)",
        ));
    }
    Ok(g)
}
