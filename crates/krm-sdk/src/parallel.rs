//! Work over many objects, files or packages on every core, results in input order:
//! reading, formatting and validating objects are independent of one another, and
//! so are the packages of a monorepo that no pipeline above them touches.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The machine's cores, at most 4: beyond that, reading and writing files, not
/// computing, sets the pace. Asked once: the answer comes from cgroup files.
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4)
    })
}

thread_local! {
    /// Whether this thread is one of the threads of [`ordered`], which keep the
    /// cores busy already: a [`map`] there runs on it, without starting threads
    /// (whose thread-local caches, compiled patterns say, would start empty).
    static SIDE_BY_SIDE: Cell<bool> = const { Cell::new(false) };
}

/// `f` over `items` on the machine's cores ([`threads`]), in order; on one thread
/// for a short list, where starting threads costs more than it saves, and on a
/// thread of [`ordered`].
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if threads < 2 || items.len() < 16 || SIDE_BY_SIDE.get() {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// `work` over `0..count` on up to `threads` threads (the caller's among them),
/// each result handed to `merge` in index order as soon as every one before it
/// was merged, so that `merge` sees what the loop `for i in 0..count { if
/// !merge(work(i)) { break } }` gives it, which is what runs on one thread.
/// When `merge` returns false, no later index starts and the results of later
/// indices that already ran are dropped unmerged.
///
/// At most `threads` calls of `work` run at once; finished results wait for
/// those before them, so a slow index holds back merging, not working.
pub fn ordered<R: Send>(
    count: usize,
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
    mut merge: impl FnMut(R) -> bool + Send,
) {
    if threads < 2 || count < 2 {
        for i in 0..count {
            if !merge(work(i)) {
                return;
            }
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    // Results waiting for an earlier index, and the next index to merge.
    let pending = Mutex::new((BTreeMap::new(), 0usize, merge));
    let worker = || {
        SIDE_BY_SIDE.set(true);
        loop {
            if stopped.load(Ordering::Acquire) {
                return;
            }
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= count {
                return;
            }
            let result = work(index);
            let mut guard = pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let (waiting, merged, merge) = &mut *guard;
            if stopped.load(Ordering::Acquire) {
                return;
            }
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(merged) {
                *merged += 1;
                if !merge(result) {
                    stopped.store(true, Ordering::Release);
                    waiting.clear();
                    return;
                }
            }
        }
    };
    let caller = SIDE_BY_SIDE.get();
    std::thread::scope(|scope| {
        for _ in 1..threads.min(count) {
            scope.spawn(worker);
        }
        worker();
    });
    SIDE_BY_SIDE.set(caller);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn keeps_the_order_of_the_input() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            super::map(&items, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert_eq!(super::map(&items[..3], |i| i + 1), vec![1, 2, 3]);
    }

    #[test]
    fn ordered_merges_in_index_order_on_any_number_of_threads() {
        for threads in [1, 2, 3, 8] {
            let mut merged = Vec::new();
            super::ordered(
                100,
                threads,
                |i| {
                    // Later indices finish first.
                    std::thread::sleep(std::time::Duration::from_micros(((100 - i) * 20) as u64));
                    i
                },
                |i| {
                    merged.push(i);
                    true
                },
            );
            assert_eq!(merged, (0..100).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn ordered_stops_at_the_first_refusal_and_merges_nothing_after_it() {
        for threads in [1, 2, 4] {
            let started = AtomicUsize::new(0);
            let mut merged = Vec::new();
            super::ordered(
                1000,
                threads,
                |i| {
                    started.fetch_add(1, Ordering::Relaxed);
                    if i > 10 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    i
                },
                |i| {
                    merged.push(i);
                    i != 10
                },
            );
            assert_eq!(merged, (0..=10).collect::<Vec<_>>(), "{threads} threads");
            // Workers stop taking indices once the refusal is merged.
            let started = started.load(Ordering::Relaxed);
            if threads == 1 {
                assert_eq!(started, 11);
            } else {
                assert!(started < 1000, "{threads} threads: {started} started");
            }
        }
    }

    #[test]
    fn map_on_a_thread_of_ordered_stays_on_it() {
        let items: Vec<u32> = (0..100).collect();
        let mut same = Vec::new();
        super::ordered(
            4,
            2,
            |_| {
                let me = std::thread::current().id();
                super::map(&items, |_| std::thread::current().id() == me)
            },
            |all| {
                same.extend(all);
                true
            },
        );
        assert_eq!(same.len(), 400);
        assert!(same.iter().all(|s| *s));
        // Elsewhere, map still uses the cores.
        let me = std::thread::current().id();
        let here = super::map(&items, |_| std::thread::current().id() == me);
        assert_eq!(here.iter().all(|h| *h), super::threads() < 2);
    }

    #[test]
    fn ordered_runs_at_most_threads_works_at_once() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        super::ordered(
            200,
            3,
            |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::yield_now();
                running.fetch_sub(1, Ordering::SeqCst);
            },
            |()| true,
        );
        assert!(most.load(Ordering::SeqCst) <= 3);
    }
}
