use super::*;

#[test]
fn dense_solution_is_the_hand_computed_optimum() {
    // Classic 3×3: the greedy choice (row 0 → col 1, cost 1) is not optimal.
    #[rustfmt::skip]
    let cost = [
        4.0, 1.0, 3.0,
        2.0, 0.0, 5.0,
        3.0, 2.0, 2.0,
    ];
    // Optimum: (0,1) 1 + (1,0) 2 + (2,2) 2 = 5.
    assert_eq!(
        solve_dense(3, 3, &cost).unwrap(),
        vec![Some(1), Some(0), Some(2)]
    );
    // Tall matrix: one row goes unassigned.
    let tall = [1.0, 9.0, 2.0, 8.0, 9.0, 1.0];
    assert_eq!(
        solve_dense(3, 2, &tall).unwrap(),
        vec![Some(0), None, Some(1)]
    );
    assert!(solve_dense(2, 2, &[1.0]).is_err());
    assert!(solve_dense(1, 1, &[f64::NAN]).is_err());
}

#[test]
fn gnn_prefers_the_global_optimum_and_respects_misses() {
    // Two tracks both close to plot 0; track 1 also gates plot 1.
    let edges = [
        Edge {
            row: 0,
            col: 0,
            cost: 1.0,
        },
        Edge {
            row: 1,
            col: 0,
            cost: 0.5,
        },
        Edge {
            row: 1,
            col: 1,
            cost: 1.0,
        },
        // A separate cluster: track 2 and plot 2.
        Edge {
            row: 2,
            col: 2,
            cost: 2.9,
        },
    ];
    // Total 2.0 beats giving plot 0 to track 1 (0.5 + track 0 missed at 3).
    assert_eq!(
        gnn(4, 3, &edges, 3.0),
        vec![Some(0), Some(1), Some(2), None]
    );
    // A pair costlier than a miss is never taken.
    let far = [Edge {
        row: 0,
        col: 0,
        cost: 3.5,
    }];
    assert_eq!(gnn(1, 1, &far, 3.0), vec![None]);
    assert_eq!(gnn(2, 0, &[], 3.0), vec![None, None]);
}

#[test]
fn gnn_matches_brute_force_on_small_random_problems() {
    // Deterministic pseudo-random problems, checked against exhaustive search.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..200 {
        let (rows, cols) = (1 + (next() * 4.0) as usize, 1 + (next() * 4.0) as usize);
        let mut edges = Vec::new();
        for row in 0..rows {
            for col in 0..cols {
                if next() < 0.6 {
                    edges.push(Edge {
                        row,
                        col,
                        cost: next() * 4.0,
                    });
                }
            }
        }
        let miss = 3.0;
        let total = |a: &[Option<usize>]| -> f64 {
            a.iter()
                .enumerate()
                .map(|(r, c)| match c {
                    Some(c) => {
                        edges
                            .iter()
                            .find(|e| e.row == r && e.col == *c)
                            .unwrap()
                            .cost
                    }
                    None => miss,
                })
                .sum()
        };
        let got = gnn(rows, cols, &edges, miss);
        let best = brute(rows, cols, &edges, miss);
        assert!((total(&got) - best).abs() < 1e-9, "{got:?} vs {best}");
    }
}

fn brute(rows: usize, cols: usize, edges: &[Edge], miss: f64) -> f64 {
    fn go(r: usize, rows: usize, used: &mut Vec<bool>, edges: &[Edge], miss: f64) -> f64 {
        if r == rows {
            return 0.0;
        }
        let mut best = miss + go(r + 1, rows, used, edges, miss);
        for e in edges.iter().filter(|e| e.row == r) {
            if used[e.col] {
                continue;
            }
            used[e.col] = true;
            best = best.min(e.cost + go(r + 1, rows, used, edges, miss));
            used[e.col] = false;
        }
        best
    }
    go(0, rows, &mut vec![false; cols], edges, miss)
}
