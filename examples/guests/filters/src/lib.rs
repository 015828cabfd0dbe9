//! Example image guest for wasmtube: filters that return an image.
//!
//! Wasmtube ABI for images: `fn(index, length, width, height) -> i32`. The host
//! has written `width * height * 3` bytes of raw RGB at `index` (it decodes PNG,
//! JPEG or WebP with sharp first); each filter writes an image of the same size
//! at `index` and returns its length, and the host encodes it again on request
//! (`returns: 'png'`, or `Accept: image/png` over HTTP). No dependencies, no imports.

use std::slice;

/// The RGB pixels of a call; traps unless `length == width * height * 3`.
fn pixels<'a>(index: *mut u8, length: usize, width: u32, height: u32) -> &'a mut [u8] {
    // u64 so that a huge width * height cannot wrap around and pass the check.
    assert_eq!(length as u64, width as u64 * height as u64 * 3, "length is not width * height * 3");
    // SAFETY: the host guarantees `length` bytes at `index` are in memory.
    unsafe { slice::from_raw_parts_mut(index, length) }
}

/// Every pixel becomes its luma (BT.601 weights in 8-bit fixed point).
#[no_mangle]
pub extern "C" fn grayscale(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    let image = pixels(index, length, width, height);
    for px in image.chunks_exact_mut(3) {
        let y = (77 * px[0] as u32 + 150 * px[1] as u32 + 29 * px[2] as u32) >> 8;
        px.fill(y as u8);
    }
    length as i32
}

/// The classic sepia tone matrix, saturated at 255.
#[no_mangle]
pub extern "C" fn sepia(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    let image = pixels(index, length, width, height);
    for px in image.chunks_exact_mut(3) {
        let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
        // Weights ×1000: (0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131).
        px[0] = ((393 * r + 769 * g + 189 * b) / 1000).min(255) as u8;
        px[1] = ((349 * r + 686 * g + 168 * b) / 1000).min(255) as u8;
        px[2] = ((272 * r + 534 * g + 131 * b) / 1000).min(255) as u8;
    }
    length as i32
}

/// Every channel becomes 255 - channel.
#[no_mangle]
pub extern "C" fn invert(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    let image = pixels(index, length, width, height);
    image.iter_mut().for_each(|b| *b = !*b);
    length as i32
}

/// A 5×5 box blur (two separable passes; edges clamp).
#[no_mangle]
pub extern "C" fn blur(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    const RADIUS: i64 = 2;
    let image = pixels(index, length, width, height);
    let (w, h) = (width as i64, height as i64);
    let mut scratch = vec![0u8; image.len()];
    // One pass along x (step 3) or y (step 3 * width) from `src` into `dst`.
    let pass = |src: &[u8], dst: &mut [u8], along_x: bool| {
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for d in -RADIUS..=RADIUS {
                        let (sx, sy) = if along_x {
                            ((x + d).clamp(0, w - 1), y)
                        } else {
                            (x, (y + d).clamp(0, h - 1))
                        };
                        sum += src[((sy * w + sx) * 3 + c) as usize] as u32;
                    }
                    dst[((y * w + x) * 3 + c) as usize] = (sum / (2 * RADIUS as u32 + 1)) as u8;
                }
            }
        }
    };
    pass(image, &mut scratch, true);
    pass(&scratch, image, false);
    length as i32
}
