//! Same person throughout: the embedded frames must all be the same face, and that face the
//! document's. A frame with more than one face is a second person in view.
//!
//! The reference is the face that opened the recording: the medoid (the one closest to the
//! others) of the first third of the embedded frames, so a swap is reported as the frames
//! after it. A frame whose cosine to the reference (or to the document face) is under the
//! face-match threshold is "another face"; consecutive such frames form a range.

use serde::Serialize;

use super::observe::Observation;
use crate::domain::face::Embedding;

#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    pub frames_compared: usize,
    /// Lowest cosine of a frame to the video's reference face.
    pub min_similarity: Option<f32>,
    /// Lowest cosine of a frame to the document face, when there is one.
    pub min_document_similarity: Option<f32>,
    /// Frame ranges (first, last index) showing another face than the reference.
    pub changed: Vec<(usize, usize)>,
    /// Frame ranges where the document face is not the one in view.
    pub unlike_document: Vec<(usize, usize)>,
    /// Frame ranges with more than one face.
    pub extra_faces: Vec<(usize, usize)>,
}

fn ranges(indices: impl Iterator<Item = (usize, bool)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for (index, bad) in indices {
        match (bad, open) {
            (true, None) => open = Some((index, index)),
            (true, Some((first, _))) => open = Some((first, index)),
            (false, Some(range)) => {
                out.push(range);
                open = None;
            }
            (false, None) => {}
        }
    }
    out.extend(open);
    out
}

pub fn assess(frames: &[Observation], document: Option<&Embedding>, threshold: f32) -> Consistency {
    let embedded: Vec<(usize, &Embedding)> =
        frames.iter().filter_map(|o| Some((o.frame_index, o.face.as_ref()?.embedding()?))).collect();
    let opening = embedded.get(..embedded.len().div_ceil(3)).unwrap_or_default();
    let reference = opening
        .iter()
        .map(|(_, e)| (*e, opening.iter().map(|(_, o)| e.cosine(o)).sum::<f32>()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| e);
    let to_reference: Vec<(usize, f32)> =
        reference.map(|r| embedded.iter().map(|(i, e)| (*i, e.cosine(r))).collect()).unwrap_or_default();
    let to_document: Vec<(usize, f32)> =
        document.map(|d| embedded.iter().map(|(i, e)| (*i, e.cosine(d))).collect()).unwrap_or_default();
    let min = |v: &[(usize, f32)]| v.iter().map(|(_, s)| *s).min_by(f32::total_cmp);
    Consistency {
        frames_compared: embedded.len(),
        min_similarity: min(&to_reference),
        min_document_similarity: min(&to_document),
        changed: ranges(to_reference.iter().map(|(i, s)| (*i, *s < threshold))),
        unlike_document: ranges(to_document.iter().map(|(i, s)| (*i, *s < threshold))),
        extra_faces: ranges(frames.iter().map(|o| (o.frame_index, o.faces > 1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_join_consecutive_flags() {
        let flags = [(0, false), (3, true), (6, true), (9, false), (12, true)];
        assert_eq!(ranges(flags.into_iter()), vec![(3, 6), (12, 12)]);
    }
}
