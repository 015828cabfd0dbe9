//! Example image guest for wasmtube: filters that return an image.
//!
//! Wasmtube ABI for images: `fn(index, length, width, height) -> i32`. The host
//! has written `width * height * 3` bytes of raw RGB at `index` (it decodes PNG,
//! JPEG or WebP with sharp first); each filter edits the image in place and the
//! host encodes it again on request (`returns: 'png'`, or `Accept: image/png` over
//! HTTP). `image_export!` (the guest kit) checks the size and hands over the pixels.

use wasmtube_guest::{image_export, RgbImage};

// Every pixel becomes its luma (BT.601 weights in 8-bit fixed point).
image_export!(grayscale, |image: &mut RgbImage| {
    for px in image.pixels.chunks_exact_mut(3) {
        let y = (77 * px[0] as u32 + 150 * px[1] as u32 + 29 * px[2] as u32) >> 8;
        px.fill(y as u8);
    }
});

// The classic sepia tone matrix, saturated at 255.
image_export!(sepia, |image: &mut RgbImage| {
    for px in image.pixels.chunks_exact_mut(3) {
        let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
        // Weights ×1000: (0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131).
        px[0] = ((393 * r + 769 * g + 189 * b) / 1000).min(255) as u8;
        px[1] = ((349 * r + 686 * g + 168 * b) / 1000).min(255) as u8;
        px[2] = ((272 * r + 534 * g + 131 * b) / 1000).min(255) as u8;
    }
});

// Every channel becomes 255 - channel.
image_export!(invert, |image: &mut RgbImage| {
    image.pixels.iter_mut().for_each(|b| *b = !*b);
});

// A 5×5 box blur (two separable passes; edges clamp).
image_export!(blur, |image: &mut RgbImage| {
    const RADIUS: i64 = 2;
    let (w, h) = (image.width as i64, image.height as i64);
    let mut scratch = vec![0u8; image.pixels.len()];
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
    pass(image.pixels, &mut scratch, true);
    pass(&scratch, image.pixels, false);
});
