//! Cycle and revision numbers, and every name derived from them.
//!
//! Tags (`c0044`, `c0044.003`), labels ("Cycle 44, Revision 3") and the
//! release-manifest file name all come from here, so there is exactly one
//! place that knows their format.

use std::fmt;

use serde::Serialize;

/// A cycle build and one of its revisions (revision 0 is the full cycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CycleId {
    /// The cycle number, e.g. 44.
    pub cycle: u32,
    /// The revision within the cycle, 0 for the full cycle upgrade.
    pub revision: u32,
}

/// Why a cycle or revision number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CycleIdError {
    /// Cycles are numbered from 1.
    #[error("cycle must be a positive integer, got {0}")]
    ZeroCycle(u32),
    /// Tags have four digits for the cycle.
    #[error("cycle must be at most 9999, got {0}")]
    CycleTooLarge(u32),
    /// Tags have three digits for the revision.
    #[error("revision must be at most 999, got {0}")]
    RevisionTooLarge(u32),
}

impl CycleId {
    /// Checks the ranges the tag formats can express.
    pub fn new(cycle: u32, revision: u32) -> Result<Self, CycleIdError> {
        if cycle == 0 {
            return Err(CycleIdError::ZeroCycle(cycle));
        }
        if cycle > 9999 {
            return Err(CycleIdError::CycleTooLarge(cycle));
        }
        if revision > 999 {
            return Err(CycleIdError::RevisionTooLarge(revision));
        }
        Ok(Self { cycle, revision })
    }

    /// The cycle tag, e.g. `c0044`: the image tag of the newest revision.
    pub fn tag(&self) -> String {
        format!("c{:04}", self.cycle)
    }

    /// The revision suffix, e.g. `.003`.
    pub fn revision_suffix(&self) -> String {
        format!(".{:03}", self.revision)
    }

    /// The full image tag, e.g. `c0044.003`.
    pub fn full_tag(&self) -> String {
        format!("{}{}", self.tag(), self.revision_suffix())
    }

    /// The label used in titles and messages: "Cycle 44" or "Cycle 44, Revision 3".
    pub fn label(&self) -> String {
        if self.is_revision() {
            format!("Cycle {}, Revision {}", self.cycle, self.revision)
        } else {
            format!("Cycle {}", self.cycle)
        }
    }

    /// Whether this is an incremental revision (revision > 0) rather than a full cycle.
    pub fn is_revision(&self) -> bool {
        self.revision > 0
    }

    /// The default release-manifest file name, e.g. `c0044.000.yaml`.
    pub fn manifest_file_name(&self) -> String {
        format!("{}.yaml", self.full_tag())
    }
}

impl fmt::Display for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_zero_padded() {
        let id = CycleId::new(39, 0).unwrap();
        assert_eq!(id.tag(), "c0039");
        assert_eq!(id.full_tag(), "c0039.000");
        assert_eq!(id.revision_suffix(), ".000");
        assert_eq!(id.label(), "Cycle 39");
        assert_eq!(id.manifest_file_name(), "c0039.000.yaml");
        assert!(!id.is_revision());
    }

    #[test]
    fn revisions_have_their_own_label() {
        let id = CycleId::new(44, 3).unwrap();
        assert_eq!(id.full_tag(), "c0044.003");
        assert_eq!(id.label(), "Cycle 44, Revision 3");
        assert!(id.is_revision());
    }

    #[test]
    fn out_of_range_numbers_are_refused() {
        assert_eq!(CycleId::new(0, 0), Err(CycleIdError::ZeroCycle(0)));
        assert_eq!(
            CycleId::new(10_000, 0),
            Err(CycleIdError::CycleTooLarge(10_000))
        );
        assert_eq!(
            CycleId::new(1, 1000),
            Err(CycleIdError::RevisionTooLarge(1000))
        );
        assert!(CycleId::new(9999, 999).is_ok());
    }
}
