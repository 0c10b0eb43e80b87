//! The embedded DejaVu Sans faces, subsetted once per process to a fixed Latin character set.
//!
//! Why a fixed subset: subsetting a font for every letter costs more than typesetting it. The
//! set covers Basic Latin, Latin-1, Latin Extended-A (French, German, Spanish, Italian, Polish…),
//! the typographic punctuation and the euro sign; a character outside it prints as `?`. The
//! subset is computed on first use and shared; every PDF embeds it (≈ 40 kB per face, compressed)
//! with a ToUnicode map so that the text can be extracted.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::RenderError;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Which face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// One face, subsetted: what the PDF writer needs.
pub(crate) struct SubsetFont {
    /// PostScript name with the subset tag, e.g. `RLNCAA+DejaVuSans`.
    pub base_font: String,
    /// The subsetted TrueType program, deflated.
    pub program_deflated: Vec<u8>,
    /// Uncompressed length of the program (the `Length1` entry).
    pub program_len: usize,
    /// char → new glyph id.
    map: HashMap<char, u16>,
    /// Advance widths in 1/1000 em, indexed by new glyph id.
    pub widths: Vec<f32>,
    /// ToUnicode CMap stream.
    pub to_unicode: Vec<u8>,
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    /// Glyph of `?`, for characters outside the subset.
    fallback: u16,
}

impl SubsetFont {
    /// Glyph id of a character in the subset (`?` when absent).
    pub fn glyph(&self, c: char) -> u16 {
        self.map.get(&c).copied().unwrap_or(self.fallback)
    }

    /// Width of a string in points at the given size.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.widths
                    .get(usize::from(self.glyph(c)))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / 1000.0
    }

    /// Encodes a string as two-byte glyph ids (Identity-H).
    pub fn encode(&self, text: &str, out: &mut Vec<u8>) {
        out.clear();
        for c in text.chars() {
            let g = self.glyph(c);
            out.extend_from_slice(&g.to_be_bytes());
        }
    }
}

fn charset() -> impl Iterator<Item = char> {
    let ranges: [(u32, u32); 8] = [
        (0x20, 0x7e),
        (0xa0, 0x17f),
        (0x2010, 0x2027),
        (0x202f, 0x203a),
        (0x20ac, 0x20ac),
        (0x2116, 0x2116),
        (0x2122, 0x2122),
        (0x2212, 0x2212),
    ];
    ranges
        .into_iter()
        .flat_map(|(a, b)| (a..=b).filter_map(char::from_u32))
}

fn build(data: &[u8], ps_name: &str, tag: &str) -> Result<SubsetFont, RenderError> {
    let face = ttf_parser::Face::parse(data, 0)
        .map_err(|e| RenderError::Font(format!("{ps_name}: {e}")))?;
    let upem = f32::from(face.units_per_em());
    let scale = 1000.0 / upem;
    let mut remapper = subsetter::GlyphRemapper::new();
    // Glyph 0 (.notdef) stays glyph 0.
    remapper.remap(0);
    let mut pairs = Vec::new();
    for c in charset() {
        if let Some(gid) = face.glyph_index(c) {
            let new = remapper.remap(gid.0);
            pairs.push((c, gid.0, new));
        }
    }
    let program = subsetter::subset(data, 0, &remapper)
        .map_err(|e| RenderError::Font(format!("{ps_name}: subsetting failed: {e}")))?;
    let mut widths = vec![0.0f32; usize::from(remapper.num_gids())];
    let mut map = HashMap::with_capacity(pairs.len());
    let mut cmap = pdf_writer::types::UnicodeCmap::new(
        pdf_writer::Name(b"Custom"),
        pdf_writer::types::SystemInfo {
            registry: pdf_writer::Str(b"Adobe"),
            ordering: pdf_writer::Str(b"Identity"),
            supplement: 0,
        },
    );
    let mut mapped = std::collections::HashSet::new();
    for (c, old, new) in pairs {
        let advance = face
            .glyph_hor_advance(ttf_parser::GlyphId(old))
            .map(f32::from)
            .unwrap_or(0.0);
        if let Some(w) = widths.get_mut(usize::from(new)) {
            *w = advance * scale;
        }
        map.insert(c, new);
        // Two characters may share a glyph (space and no-break space): map the first.
        if mapped.insert(new) {
            cmap.pair(new, c);
        }
    }
    let fallback = map.get(&'?').copied().unwrap_or(0);
    let bb = face.global_bounding_box();
    Ok(SubsetFont {
        base_font: format!("{tag}+{ps_name}"),
        program_deflated: miniz_oxide::deflate::compress_to_vec_zlib(&program, 9),
        program_len: program.len(),
        map,
        widths,
        to_unicode: cmap.finish().to_vec(),
        ascent: f32::from(face.ascender()) * scale,
        descent: f32::from(face.descender()) * scale,
        cap_height: face
            .capital_height()
            .map(|h| f32::from(h) * scale)
            .unwrap_or(729.0),
        bbox: [
            f32::from(bb.x_min) * scale,
            f32::from(bb.y_min) * scale,
            f32::from(bb.x_max) * scale,
            f32::from(bb.y_max) * scale,
        ],
        fallback,
    })
}

struct Fonts {
    regular: SubsetFont,
    bold: SubsetFont,
}

static FONTS: OnceLock<Result<Fonts, RenderError>> = OnceLock::new();

/// The two faces, built on first use.
pub(crate) fn fonts() -> Result<(&'static SubsetFont, &'static SubsetFont), RenderError> {
    let built = FONTS.get_or_init(|| {
        Ok(Fonts {
            regular: build(REGULAR_TTF, "DejaVuSans", "RLNCAA")?,
            bold: build(BOLD_TTF, "DejaVuSans-Bold", "RLNCAB")?,
        })
    });
    match built {
        Ok(f) => Ok((&f.regular, &f.bold)),
        Err(e) => Err(e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_covers_french_and_the_euro_sign() {
        let (regular, bold) = fonts().expect("fonts");
        for c in "éèêëàâçôûùïîœÉÈÀÇŒ€«»’ \u{a0}\u{202f}".chars() {
            assert_ne!(regular.glyph(c), regular.fallback, "{c:?} missing");
            assert_ne!(bold.glyph(c), bold.fallback, "{c:?} missing");
        }
        assert!(regular.width("Mise en demeure", 10.0) > 50.0);
        assert!(regular.program_deflated.len() < 120_000);
    }
}
