//! Delta debugging (ddmin): the smallest session, first by whole writes
//! and pauses, then by bytes within each write, for which the oracle still
//! gives the same finding. Every candidate is replayed against the broker.

use super::session::{Op, Session};

/// The oracle a minimisation keeps true.
pub(crate) trait Holds {
    /// Whether `s` still shows the finding (replayed against the broker).
    async fn holds(&mut self, s: Session) -> bool;
}

/// Keeps a subsequence of `items` for which the session `build` makes of
/// it still holds, spending at most `budget` checks.
async fn ddmin<T: Clone, H: Holds>(
    mut items: Vec<T>,
    build: impl Fn(Vec<T>) -> Session,
    h: &mut H,
    budget: &mut usize,
) -> Vec<T> {
    let mut n = 2usize;
    while items.len() >= 2 && *budget > 0 {
        let chunk = items.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < items.len() && *budget > 0 {
            let end = (start + chunk).min(items.len());
            let mut rest = items[..start].to_vec();
            rest.extend_from_slice(&items[end..]);
            *budget -= 1;
            if !rest.is_empty() && h.holds(build(rest.clone())).await {
                items = rest;
                n = n.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (n * 2).min(items.len());
        }
    }
    items
}

/// The smallest session found for which `h` holds; `s` itself must.
pub(crate) async fn minimise<H: Holds>(s: &Session, h: &mut H, mut budget: usize) -> Session {
    let base = s.clone();
    let ops = ddmin(
        s.ops.clone(),
        |ops| Session {
            ops,
            ..base.clone()
        },
        h,
        &mut budget,
    )
    .await;
    let mut best = Session { ops, ..s.clone() };
    for i in 0..best.ops.len() {
        let Op::Send { conn, bytes } = best.ops[i].clone() else {
            continue;
        };
        if bytes.len() < 2 || budget == 0 {
            continue;
        }
        let base = best.clone();
        let kept = ddmin(
            bytes,
            |b| {
                let mut t = base.clone();
                t.ops[i] = Op::Send { conn, bytes: b };
                t
            },
            h,
            &mut budget,
        )
        .await;
        best.ops[i] = Op::Send { conn, bytes: kept };
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ProtocolVersion;

    #[tokio::test]
    async fn finds_the_bytes_that_matter() {
        let s = Session {
            index: 0,
            version: ProtocolVersion::V3_1_1,
            ops: vec![
                Op::Send {
                    conn: 0,
                    bytes: b"hello".to_vec(),
                },
                Op::Pause(std::time::Duration::from_millis(1)),
                Op::Send {
                    conn: 0,
                    bytes: b"xxBADyy".to_vec(),
                },
                Op::Send {
                    conn: 1,
                    bytes: b"zz".to_vec(),
                },
            ],
            origin: String::new(),
        };
        // The finding: some write on connection 0 holds both 'B' and 'D'.
        struct Bd(usize);
        impl Holds for Bd {
            async fn holds(&mut self, t: Session) -> bool {
                self.0 += 1;
                t.ops.iter().any(|o| matches!(o, Op::Send { conn: 0, bytes } if bytes.contains(&b'B') && bytes.contains(&b'D')))
            }
        }
        let mut h = Bd(0);
        let m = minimise(&s, &mut h, 500).await;
        assert_eq!(
            m.ops,
            vec![Op::Send {
                conn: 0,
                bytes: b"BD".to_vec()
            }]
        );
        assert!(h.0 < 100, "{}", h.0);
    }
}
