//! CPU-bound work of a batch spread over the machine's cores, results in input order.
//!
//! The node releases pages and validates posted batches with it; the federation seals, binds,
//! opens and verifies with it. One implementation, on rayon's pool: its threads live as long as
//! the process, and so do their allocator caches (a thread started per batch faults in fresh
//! memory for every page it releases).

/// How costly one item is, which decides the batch below which the work stays on the calling
/// thread: handing a batch to the pool and waiting for it costs more than small work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    /// Microseconds an item (parse and release a stored object): spread from 64 items.
    Fine,
    /// Tens of microseconds an item or more (a signature, a sealed envelope): spread from 16.
    Coarse,
}

impl Grain {
    fn smallest_spread_batch(self) -> usize {
        match self {
            Grain::Fine => 64,
            Grain::Coarse => 16,
        }
    }
}

/// `f` applied to every item, in order, with the items split over the machine's cores when the
/// batch is large (a page of 1,000 objects to parse and release is CPU work of milliseconds).
pub fn on_all_cores<T: Send, U: Send>(
    grain: Grain,
    items: Vec<T>,
    f: impl Fn(T) -> U + Sync + Send,
) -> Vec<U> {
    on_cores(true, grain, items, || (), |_, item| f(item))
}

/// `f` applied to consecutive shares of `items`, each at most `most` long and, when the batch is
/// large, as many as the cores can share; the shares on every core, the results joined in order.
/// For work that gains from taking many items at once, such as verifying signatures together.
pub fn in_shares_on_all_cores<T: Sync, U: Send>(
    grain: Grain,
    items: &[T],
    most: usize,
    f: impl Fn(&[T]) -> Vec<U> + Sync + Send,
) -> Vec<U> {
    use rayon::prelude::*;
    let most = most.max(1);
    let threads = rayon::current_num_threads();
    if items.len() < grain.smallest_spread_batch() || threads < 2 {
        return items.chunks(most).flat_map(&f).collect();
    }
    let share = items.len().div_ceil(threads).clamp(1, most);
    items
        .par_chunks(share)
        .map(&f)
        .collect::<Vec<Vec<U>>>()
        .into_iter()
        .flatten()
        .collect()
}

/// [`on_all_cores`] where each share of the work keeps a state of its own (made by `init`), such
/// as a memo of decisions; on the calling thread unless `spread`.
pub fn on_cores<T: Send, U: Send, S>(
    spread: bool,
    grain: Grain,
    items: Vec<T>,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, T) -> U + Sync + Send,
) -> Vec<U> {
    use rayon::prelude::*;
    if !spread || items.len() < grain.smallest_spread_batch() || rayon::current_num_threads() < 2 {
        let mut state = init();
        return items.into_iter().map(|item| f(&mut state, item)).collect();
    }
    // One share per thread: each builds one state (one memo) for its share.
    let per = items.len().div_ceil(rayon::current_num_threads());
    items
        .into_par_iter()
        .with_min_len(per)
        .map_init(init, f)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_at_every_size() {
        for grain in [Grain::Fine, Grain::Coarse] {
            let edge = grain.smallest_spread_batch();
            for n in [0, 1, edge - 1, edge, 1001] {
                let items: Vec<usize> = (0..n).collect();
                let out = on_all_cores(grain, items, |i| i * 2);
                assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn shares_are_bounded_and_results_keep_the_input_order() {
        for n in [0, 1, 15, 16, 17, 64, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let out = in_shares_on_all_cores(Grain::Coarse, &items, 10, |share| {
                assert!(!share.is_empty() && share.len() <= 10, "{}", share.len());
                share.iter().map(|i| i * 2).collect()
            });
            assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn each_share_keeps_its_own_state() {
        let out = on_cores(
            true,
            Grain::Fine,
            (0..500).collect(),
            Vec::new,
            |seen, i: u32| {
                seen.push(i);
                // Within a share, items arrive in order.
                seen.windows(2).all(|w| w[0] < w[1])
            },
        );
        assert!(out.into_iter().all(|ordered| ordered));
    }
}
