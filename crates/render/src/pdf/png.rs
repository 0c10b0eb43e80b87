//! PNG logos for the letterhead: a small decoder (8-bit, non-interlaced; grey, RGB, palette,
//! with or without alpha) whose pixels go into the PDF deflated. Transparency is composited on
//! white — the paper's colour — so the image stays one object without a soft mask, which the
//! print batch copies as it is.

/// Decoded pixels: grey (1 byte) or RGB (3 bytes) per pixel, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u16,
    pub height: u16,
    /// 1 (DeviceGray) or 3 (DeviceRGB).
    pub colors: u8,
    pub data: Vec<u8>,
}

/// Logos are small: anything larger is refused rather than inflated.
const MAX_SIDE: u32 = 4096;

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// On white: `value` seen through `alpha`.
fn on_white(value: u8, alpha: u8) -> u8 {
    let (v, a) = (u32::from(value), u32::from(alpha));
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Decodes a PNG, or `None` for anything this reader does not handle (16-bit, interlaced,
/// damaged, too large).
pub fn decode(png: &[u8]) -> Option<Pixels> {
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let mut pos = 8;
    let mut header = None;
    let mut palette: &[u8] = &[];
    let mut transparency: &[u8] = &[];
    let mut compressed = Vec::new();
    while pos + 8 <= png.len() {
        let len = be32(&png[pos..]) as usize;
        let kind = &png[pos + 4..pos + 8];
        let body = png.get(pos + 8..pos.checked_add(8 + len)?)?;
        match kind {
            b"IHDR" if body.len() == 13 => header = Some(body),
            b"PLTE" => palette = body,
            b"tRNS" => transparency = body,
            b"IDAT" => compressed.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let h = header?;
    let (width, height) = (be32(&h[0..]), be32(&h[4..]));
    let (depth, color_type, interlace) = (h[8], h[9], h[12]);
    if depth != 8 || interlace != 0 || width == 0 || height == 0 {
        return None;
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return None;
    }
    let channels: usize = match color_type {
        0 => 1,
        2 => 3,
        3 => 1,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    let (w, rows) = (width as usize, height as usize);
    let stride = w * channels;
    let raw =
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, (stride + 1) * rows)
            .ok()?;
    if raw.len() < (stride + 1) * rows {
        return None;
    }
    // Undo the scanline filters.
    let mut pixels = vec![0u8; stride * rows];
    for y in 0..rows {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let left = if x >= channels {
                pixels[y * stride + x - channels]
            } else {
                0
            };
            let up = if y > 0 {
                pixels[(y - 1) * stride + x]
            } else {
                0
            };
            let up_left = if y > 0 && x >= channels {
                pixels[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return None,
            };
            pixels[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    let colors: u8 = if matches!(color_type, 0 | 4) { 1 } else { 3 };
    let mut data = Vec::with_capacity(w * rows * usize::from(colors));
    for px in pixels.chunks_exact(channels) {
        match color_type {
            0 => data.push(px[0]),
            2 => data.extend_from_slice(px),
            3 => {
                let i = usize::from(px[0]);
                let rgb = palette.get(i * 3..i * 3 + 3)?;
                let alpha = transparency.get(i).copied().unwrap_or(255);
                data.extend(rgb.iter().map(|v| on_white(*v, alpha)));
            }
            4 => data.push(on_white(px[0], px[1])),
            _ => data.extend(px[..3].iter().map(|v| on_white(*v, px[3]))),
        }
    }
    Some(Pixels {
        width: u16::try_from(width).ok()?,
        height: u16::try_from(height).ok()?,
        colors,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8], body: &[u8]) -> Vec<u8> {
        let mut c = (body.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(body);
        c.extend_from_slice(&[0, 0, 0, 0]); // CRC: not checked
        c
    }

    fn png(
        width: u32,
        height: u32,
        color_type: u8,
        scanlines: &[u8],
        extra: &[Vec<u8>],
    ) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, color_type, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        for e in extra {
            out.extend_from_slice(e);
        }
        out.extend(chunk(
            b"IDAT",
            &miniz_oxide::deflate::compress_to_vec_zlib(scanlines, 6),
        ));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn undoes_the_filters_and_composites_alpha_on_white() {
        // 2×2 RGBA: row 0 unfiltered, row 1 "Up" (adds the row above).
        let rows = [
            0, 255, 0, 0, 255, 0, 0, 255, 0, // red opaque, blue transparent
            2, 0, 0, 0, 0, 0, 0, 0, 128, // same as above but the blue at half alpha
        ];
        let p = decode(&png(2, 2, 6, &rows, &[])).expect("decodes");
        assert_eq!((p.width, p.height, p.colors), (2, 2, 3));
        assert_eq!(&p.data[0..3], &[255, 0, 0]);
        assert_eq!(&p.data[3..6], &[255, 255, 255], "transparent is white");
        assert_eq!(&p.data[9..12], &[127, 127, 255], "half blue on white");
    }

    #[test]
    fn reads_palettes_with_transparency_and_paeth() {
        let plte = chunk(b"PLTE", &[10, 20, 30, 200, 100, 0]);
        let trns = chunk(b"tRNS", &[255, 0]);
        let rows = [4, 0, 1, 4, 1, 255]; // Paeth: row 0 = [0, 1]; row 1 = [1, 0]
        let p = decode(&png(2, 2, 3, &rows, &[plte, trns])).expect("decodes");
        assert_eq!(p.colors, 3);
        assert_eq!(
            p.data,
            [10, 20, 30, 255, 255, 255, 255, 255, 255, 10, 20, 30]
        );
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        assert!(decode(b"not a png").is_none());
        let mut ihdr16 = png(1, 1, 0, &[0, 0], &[]);
        ihdr16[24] = 16; // bit depth
        assert!(decode(&ihdr16).is_none());
        assert!(
            decode(&png(1, 2, 0, &[0, 7], &[])).is_none(),
            "a row is missing"
        );
        assert!(
            decode(&png(5000, 1, 0, &[0; 5001], &[])).is_none(),
            "too wide"
        );
    }
}
