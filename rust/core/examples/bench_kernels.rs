//! Times the kernels on raw little-endian f64 files of (3, N) positions:
//! `cargo run --release --example bench_kernels -- data.bin randoms.bin threads`

use std::time::Instant;

use astrograph_core::*;

fn read(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).expect("readable file");
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (d, r) = (read(&args[1]), read(&args[2]));
    let threads: usize = args.get(3).map_or(2, |t| t.parse().unwrap());
    let only = args.get(4).cloned().unwrap_or_default();
    let (nd, nr) = (d.len() / 3, r.len() / 3);
    let ds = Sample::new(
        Positions::new(&d[..nd], &d[nd..2 * nd], &d[2 * nd..]).unwrap(),
        None,
    );
    let rs = Sample::new(
        Positions::new(&r[..nr], &r[nr..2 * nr], &r[2 * nr..]).unwrap(),
        None,
    );
    let m = Metric::new(None, Los::Midpoint).unwrap();
    let c = Control::new();
    with_threads(Some(threads), || {
        if only == "dd" {
            let log: Vec<f64> = (0..=10).map(|i| 20f64.powf(i as f64 / 10.0)).collect();
            let bins = Bins::new(log, 1).unwrap();
            let best = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    let pc = count_pairs(&ds, None, &bins, &m, Default::default(), &c).unwrap();
                    assert!(pc.dd.iter().sum::<f64>() > 0.0);
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            println!("DD best of 15: {best:.4} s");
            return;
        }
        let bins = Bins::new((0..=6).map(|i| 1.0 + 19.0 * i as f64 / 6.0).collect(), 1).unwrap();
        let t = Instant::now();
        let tc = count_triangles(&ds, Some(&rs), &bins, &m, Default::default(), &c).unwrap();
        let dt = t.elapsed().as_secs_f64();
        let total: f64 = tc.counts.iter().map(|v| v.iter().sum::<f64>()).sum();
        println!(
            "triangles {total:.0} in {dt:.3} s: {:.1} M/s",
            total / dt / 1e6
        );
        let log: Vec<f64> = (0..=10).map(|i| 20f64.powf(i as f64 / 10.0)).collect();
        let bins = Bins::new(log, 1).unwrap();
        let t = Instant::now();
        let pc = count_pairs(&ds, None, &bins, &m, Default::default(), &c).unwrap();
        println!(
            "DD {:.0} pairs in {:.3} s",
            pc.dd.iter().sum::<f64>(),
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let g = Graph::build(&ds, Some(&rs), &m, &BuildOptions::new(0.0, 20.0), &c).unwrap();
        println!(
            "graph build: {} edges in {:.3} s",
            g.n_edges(),
            t.elapsed().as_secs_f64()
        );
        let bins = Bins::new((0..=6).map(|i| 1.0 + 19.0 * i as f64 / 6.0).collect(), 1).unwrap();
        let t = Instant::now();
        let tc = g.count_triangles(&bins, Default::default(), &c).unwrap();
        let total: f64 = tc.counts.iter().map(|v| v.iter().sum::<f64>()).sum();
        println!(
            "graph triangles {total:.0} in {:.3} s",
            t.elapsed().as_secs_f64()
        );
    })
    .unwrap();
}
