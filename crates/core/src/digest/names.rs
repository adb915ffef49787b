//! A list of names held in one text buffer: what a million file names
//! cost as a million `String`s is about three times their length.

use serde::Serialize;
use serde::ser::SerializeSeq;

/// Names in one buffer, in the order pushed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NameList {
    text: String,
    ends: Vec<usize>,
    /// Some name was not greater than the one before it (kept on push, so
    /// that [`NameList::is_sorted`] costs nothing per lookup).
    unsorted: bool,
}

impl std::fmt::Debug for NameList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl NameList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a name.
    pub fn push(&mut self, name: &str) {
        if !self.unsorted && self.last().is_some_and(|last| last >= name) {
            self.unsorted = true;
        }
        self.text.push_str(name);
        self.ends.push(self.text.len());
    }

    /// The name at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.text[start..end])
    }

    /// The last name.
    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The names in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    /// Where `name` is, in a list sorted byte-wise.
    pub fn find_sorted(&self, name: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).expect("in range").cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Whether the names are in strictly increasing byte-wise order.
    pub fn is_sorted(&self) -> bool {
        !self.unsorted
    }
}

impl<'a> FromIterator<&'a str> for NameList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut list = NameList::new();
        for name in iter {
            list.push(name);
        }
        list
    }
}

impl Serialize for NameList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for name in self.iter() {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_in_a_sorted_list() {
        let list: NameList = ["a", "b/c", "b0", "z"].into_iter().collect();
        assert!(list.is_sorted());
        assert_eq!(list.find_sorted("b0"), Some(2));
        assert_eq!(list.find_sorted("b"), None);
        assert_eq!(list.last(), Some("z"));
        let unsorted: NameList = ["a", "c", "b"].into_iter().collect();
        assert!(!unsorted.is_sorted());
        let repeated: NameList = ["a", "a"].into_iter().collect();
        assert!(!repeated.is_sorted());
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"["a","b/c","b0","z"]"#
        );
    }
}
