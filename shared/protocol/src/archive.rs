//! Archive paging (RFC 5005 "archived feeds") as pure arithmetic.
//!
//! A feed is a head document plus immutable archive pages. Page `k` holds
//! exactly the items with sequence numbers `k*P .. (k+1)*P`. The head holds
//! everything newer than the last complete page: never fewer than the newest
//! `N` items (or all of them, when the feed is younger), never more than
//! `N + P - 1`. When an append would bring the head to `N + P` items, its
//! oldest `P` items become the next archive page. A publish therefore costs
//! the same at item 10 and at item 1,000,000: one head read, one head write,
//! and every `P` publishes one page write.

/// Head and page sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    head_items: usize,
    page_size: usize,
}

/// The oldest items of a head that must move to an archive page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveCut {
    /// The page number they form.
    pub page: u64,
    /// How many of the head's oldest items move (always the page size).
    pub count: usize,
}

impl Paging {
    /// Builds a paging rule; both sizes are at least 1.
    ///
    /// ```
    /// use cloudim_protocol::Paging;
    /// let p = Paging::new(3, 2);
    /// assert_eq!(p.head_items(), 3);
    /// assert_eq!(Paging::new(0, 0).page_size(), 1);
    /// ```
    pub fn new(head_items: usize, page_size: usize) -> Self {
        Self { head_items: head_items.max(1), page_size: page_size.max(1) }
    }

    /// The fewest items the head keeps once the feed has that many.
    pub fn head_items(&self) -> usize {
        self.head_items
    }

    /// Items per archive page.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Given the head's first sequence number and its length *after* an
    /// append, says which of its oldest items form a complete archive page.
    ///
    /// ```
    /// use cloudim_protocol::{ArchiveCut, Paging};
    /// let p = Paging::new(3, 2);
    /// assert_eq!(p.cut(0, 4), None);
    /// assert_eq!(p.cut(0, 5), Some(ArchiveCut { page: 0, count: 2 }));
    /// assert_eq!(p.cut(2, 5), Some(ArchiveCut { page: 1, count: 2 }));
    /// ```
    pub fn cut(&self, first_seq: u64, head_len: usize) -> Option<ArchiveCut> {
        (head_len >= self.head_items + self.page_size).then(|| ArchiveCut {
            page: first_seq / self.page_size as u64,
            count: self.page_size,
        })
    }

    /// The page that holds a sequence number.
    pub fn page_of(&self, seq: u64) -> u64 {
        seq / self.page_size as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Appending any number of items, page by page, keeps every item exactly
        /// once, in order, with complete pages and a bounded head.
        #[test]
        fn pages_and_head_hold_every_item_once(n in 1usize..6, p in 1usize..6, total in 0u64..200) {
            let paging = Paging::new(n, p);
            let mut pages: Vec<Vec<u64>> = Vec::new();
            let mut head: Vec<u64> = Vec::new();
            let mut first_seq = 0u64;
            for seq in 0..total {
                head.push(seq);
                if let Some(cut) = paging.cut(first_seq, head.len()) {
                    prop_assert_eq!(cut.page as usize, pages.len());
                    pages.push(head.drain(..cut.count).collect());
                    first_seq += cut.count as u64;
                }
                prop_assert!(head.len() < n + p);
                prop_assert!(head.len() >= n.min((seq + 1) as usize));
            }
            let all: Vec<u64> = pages.iter().flatten().chain(head.iter()).copied().collect();
            prop_assert_eq!(all, (0..total).collect::<Vec<_>>());
            for (k, page) in pages.iter().enumerate() {
                prop_assert_eq!(page.len(), p);
                prop_assert!(page.iter().all(|&s| paging.page_of(s) == k as u64));
            }
        }
    }
}
