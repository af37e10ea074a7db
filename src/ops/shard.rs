//! Splitting the regions of one run across the tasks of a Slurm job array.
//!
//! Task `I` of `N` fits the regions whose stable hash ([`crate::hash::fnv1a`] of the
//! region id) is `I` modulo `N`. A hash rather than a position in the region list keeps the
//! shards balanced (ids are spread uniformly) and stable: adding a named box or changing the
//! tiling moves only the new regions, so the results already saved by other shards remain
//! valid. `sstcast merge` then reads every region's saved result ([`super::checkpoint`]) and
//! writes the same outputs a single-node run writes.

use std::fmt;

/// One shard: `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: usize,
    /// Number of shards (at least 1).
    pub count: usize,
}

/// A shard specification that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `I/N` with `0 <= I < N`.
    #[error("bad shard {text:?}: expected I/N with 0 <= I < N (e.g. 0/4)")]
    Syntax {
        /// What was given.
        text: String,
    },
    /// The Slurm array variables are inconsistent.
    #[error("cannot derive the shard from the Slurm array variables ({detail}); pass --shard I/N")]
    Slurm {
        /// What is wrong.
        detail: String,
    },
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let bad = || ShardError::Syntax { text: text.into() };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// The shard of a Slurm array task, from `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`,
    /// `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_STEP` as returned by `var`; `None` outside
    /// an array job. `--array=1-4` gives tasks 1..4 -> shards 0..3 of 4; `--array=0-6:2` gives
    /// tasks 0,2,4,6 -> shards 0..3 of 4. Arrays with irregular ids (`--array=1,5,9`) are not
    /// supported: their count and ids do not map onto 0..N.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ShardError> {
        let Some(id) = var("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let num = |name: &str, default: Option<usize>| -> Result<usize, ShardError> {
            match var(name) {
                Some(v) => v.trim().parse().map_err(|_| ShardError::Slurm {
                    detail: format!("{name}={v:?} is not a number"),
                }),
                None => default.ok_or_else(|| ShardError::Slurm {
                    detail: format!("SLURM_ARRAY_TASK_ID={id} is set but {name} is not"),
                }),
            }
        };
        let id: usize = id.trim().parse().map_err(|_| ShardError::Slurm {
            detail: format!("SLURM_ARRAY_TASK_ID={id:?} is not a number"),
        })?;
        let count = num("SLURM_ARRAY_TASK_COUNT", None)?;
        let min = num("SLURM_ARRAY_TASK_MIN", Some(0))?;
        let step = num("SLURM_ARRAY_TASK_STEP", Some(1))?.max(1);
        let offset = id.checked_sub(min).ok_or_else(|| ShardError::Slurm {
            detail: format!("task id {id} is below SLURM_ARRAY_TASK_MIN={min}"),
        })?;
        let index = offset / step;
        if offset % step != 0 || count == 0 || index >= count {
            return Err(ShardError::Slurm {
                detail: format!(
                    "task id {id} with min {min}, step {step} and count {count} is not one of 0..{count}"
                ),
            });
        }
        Ok(Some(Self { index, count }))
    }

    /// The shard a region belongs to among `count`.
    pub fn of_region(id: &str, count: usize) -> usize {
        (crate::hash::fnv1a(id.as_bytes()) % count.max(1) as u64) as usize
    }

    /// Whether this shard fits region `id`.
    pub fn contains(&self, id: &str) -> bool {
        Self::of_region(id, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_and_derives_from_slurm() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::from_slurm(env(&[])).unwrap(), None);
        let s = |pairs: &[(&str, &str)]| Shard::from_slurm(env(pairs));
        assert_eq!(
            s(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "4")
            ])
            .unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        // --array=1-4
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(s(&one_based).unwrap(), Some(Shard { index: 0, count: 4 }));
        // --array=0-6:2, task 6
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        assert_eq!(s(&stepped).unwrap(), Some(Shard { index: 3, count: 4 }));
        assert!(s(&[("SLURM_ARRAY_TASK_ID", "3")]).is_err());
        assert!(s(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4")
        ])
        .is_err());
    }

    #[test]
    fn every_region_is_in_exactly_one_shard() {
        let ids: Vec<String> = (0..50).map(|i| format!("tile_{i:02}_07")).collect();
        for n in 1..6 {
            for id in &ids {
                let owners = (0..n)
                    .filter(|&i| Shard { index: i, count: n }.contains(id))
                    .count();
                assert_eq!(owners, 1);
            }
        }
    }
}
