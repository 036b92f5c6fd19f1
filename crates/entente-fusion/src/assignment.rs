//! Optimal 2-D assignment with gating.
//!
//! The dense solver is `lsap`, a port of SciPy's `linear_sum_assignment` (the shortest augmenting
//! path variant of Jonker–Volgenant that Stone Soup also relies on). Gating makes the problem
//! sparse: [`gnn`] splits the gated pairs into connected clusters and solves each one densely, so a
//! thousand well-separated targets cost a thousand tiny problems rather than one cubic one.

use crate::Error;

/// Solves a dense rectangular problem, minimising the total cost. Returns, for each row, the
/// column it is assigned to (every row of a wide matrix gets one; a tall matrix leaves some rows
/// out). Costs must be finite.
pub fn solve_dense(rows: usize, cols: usize, cost: &[f64]) -> Result<Vec<Option<usize>>, Error> {
    if cost.len() != rows * cols {
        return Err(Error::Assignment(format!(
            "cost matrix has {} entries, expected {rows}×{cols}",
            cost.len()
        )));
    }
    let mut out = vec![None; rows];
    if rows == 0 || cols == 0 {
        return Ok(out);
    }
    let cost = cost.to_vec();
    let (r, c) =
        lsap::solve(rows, cols, &cost, false).map_err(|e| Error::Assignment(format!("{e:?}")))?;
    for (i, j) in r.into_iter().zip(c) {
        out[i] = Some(j);
    }
    Ok(out)
}

/// A gated pair: row (track) `row` may take column (plot) `col` at `cost`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// Row index.
    pub row: usize,
    /// Column index.
    pub col: usize,
    /// Cost of the pair; must be below the row's miss cost to be worth anything.
    pub cost: f64,
}

/// Global nearest neighbour: every row takes at most one column and every column at most one row,
/// minimising the sum of pair costs plus `miss_cost` for each row left unassigned. Only `edges`
/// are allowed. Returns, for each row, its column.
pub fn gnn(rows: usize, cols: usize, edges: &[Edge], miss_cost: f64) -> Vec<Option<usize>> {
    let mut out = vec![None; rows];
    if edges.is_empty() {
        return out;
    }
    // Union-find over rows and columns (columns offset by `rows`).
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for e in edges {
        let (a, b) = (find(&mut parent, e.row), find(&mut parent, rows + e.col));
        if a != b {
            parent[a] = b;
        }
    }
    // Group edges by cluster root.
    let mut cluster_of = vec![usize::MAX; rows + cols];
    let mut clusters: Vec<Vec<Edge>> = Vec::new();
    for e in edges {
        let root = find(&mut parent, e.row);
        if cluster_of[root] == usize::MAX {
            cluster_of[root] = clusters.len();
            clusters.push(Vec::new());
        }
        clusters[cluster_of[root]].push(*e);
    }
    let mut row_local = vec![usize::MAX; rows];
    let mut col_local = vec![usize::MAX; cols];
    for cluster in clusters {
        if let [only] = cluster.as_slice() {
            if only.cost < miss_cost {
                out[only.row] = Some(only.col);
            }
            continue;
        }
        let mut row_ids = Vec::new();
        let mut col_ids = Vec::new();
        for e in &cluster {
            if row_local[e.row] == usize::MAX {
                row_local[e.row] = row_ids.len();
                row_ids.push(e.row);
            }
            if col_local[e.col] == usize::MAX {
                col_local[e.col] = col_ids.len();
                col_ids.push(e.col);
            }
        }
        // Rows × (columns + one private "missed" column per row), as Stone Soup's
        // GNNWith2DAssignment builds it. Forbidden cells get a cost no optimum can afford.
        let (n, m) = (row_ids.len(), col_ids.len());
        let width = m + n;
        let forbidden = 1e6_f64.max(10.0 * (n as f64) * miss_cost.abs().max(1.0));
        let mut cost = vec![forbidden; n * width];
        for i in 0..n {
            cost[i * width + m + i] = miss_cost;
        }
        for e in &cluster {
            let (i, j) = (row_local[e.row], col_local[e.col]);
            cost[i * width + j] = e.cost.min(forbidden);
        }
        if let Ok(assigned) = solve_dense(n, width, &cost) {
            for (i, j) in assigned.into_iter().enumerate() {
                if let Some(j) = j {
                    if j < m && cost[i * width + j] < forbidden {
                        out[row_ids[i]] = Some(col_ids[j]);
                    }
                }
            }
        }
        for &r in &row_ids {
            row_local[r] = usize::MAX;
        }
        for &c in &col_ids {
            col_local[c] = usize::MAX;
        }
    }
    out
}

#[cfg(test)]
mod tests;
