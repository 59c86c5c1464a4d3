//! VP8 encode and decode through libvpx (`vpx_sys`, from env-libvpx-sys).
//!
//! The client's only `unsafe` code lives here (the relay's is one call, in its `memory`
//! module): thin wrappers over the libvpx C API with the invariants stated at each call.
//! Frames are I420, tightly packed (Y plane, then U, then V; chroma planes are half
//! size, rounded up).

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr;

use vpx_sys::*;

#[derive(Debug, thiserror::Error)]
pub enum Vp8Error {
    #[error("libvpx: {0}")]
    Codec(String),
    #[error("frame is {got} bytes; {width}x{height} I420 needs {want}")]
    FrameSize {
        got: usize,
        want: usize,
        width: u32,
        height: u32,
    },
    #[error("width and height must be even and non-zero (got {0}x{1})")]
    Dimensions(u32, u32),
}

/// Bytes of a tightly packed I420 frame.
pub fn i420_len(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
}

fn error_text(ctx: &mut vpx_codec_ctx_t, err: vpx_codec_err_t) -> String {
    // SAFETY: vpx_codec_error returns a pointer to a static or context-owned C string,
    // valid until the next call on this context; we copy it out at once.
    let text = unsafe {
        let p = vpx_codec_error(ctx);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    format!("{err:?}: {text}")
}

/// An encoded frame.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
}

/// Realtime VP8 encoder.
pub struct Vp8Encoder {
    // Boxed: libvpx keeps pointers into the context, so it must not move.
    ctx: Box<vpx_codec_ctx_t>,
    width: u32,
    height: u32,
    pts: i64,
}

// SAFETY: the context is owned exclusively by this value and libvpx contexts may be used
// from any thread as long as calls are not concurrent (guaranteed by `&mut self`).
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    pub fn new(width: u32, height: u32, fps: u32, bitrate_kbps: u32) -> Result<Self, Vp8Error> {
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(Vp8Error::Dimensions(width, height));
        }
        // SAFETY: zeroed is a valid initial state for these plain C structs; libvpx fills
        // the config and initialises the context, and we check both return codes.
        unsafe {
            let mut cfg: vpx_codec_enc_cfg_t = MaybeUninit::zeroed().assume_init();
            let r = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &mut cfg, 0);
            if r != vpx_codec_err_t::VPX_CODEC_OK {
                return Err(Vp8Error::Codec(format!("config: {r:?}")));
            }
            cfg.g_w = width;
            cfg.g_h = height;
            cfg.g_timebase.num = 1;
            cfg.g_timebase.den = fps.max(1) as i32;
            cfg.rc_target_bitrate = bitrate_kbps;
            cfg.rc_end_usage = vpx_rc_mode::VPX_CBR;
            cfg.g_threads = 1;
            cfg.g_lag_in_frames = 0;
            cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
            // A keyframe at least every 5 s even if no one asks.
            cfg.kf_max_dist = fps.max(1) * 5;
            let mut ctx: Box<vpx_codec_ctx_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let r = vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx_codec_vp8_cx(),
                &cfg,
                0,
                VPX_ENCODER_ABI_VERSION as i32,
            );
            if r != vpx_codec_err_t::VPX_CODEC_OK {
                return Err(Vp8Error::Codec(error_text(&mut ctx, r)));
            }
            Ok(Vp8Encoder {
                ctx,
                width,
                height,
                pts: 0,
            })
        }
    }

    /// Encode one I420 frame; `keyframe` forces an intra frame (after a keyframe request).
    pub fn encode(&mut self, i420: &[u8], keyframe: bool) -> Result<Vec<EncodedFrame>, Vp8Error> {
        let want = i420_len(self.width, self.height);
        if i420.len() != want {
            return Err(Vp8Error::FrameSize {
                got: i420.len(),
                want,
                width: self.width,
                height: self.height,
            });
        }
        let flags: vpx_enc_frame_flags_t = if keyframe {
            VPX_EFLAG_FORCE_KF as vpx_enc_frame_flags_t
        } else {
            0
        };
        let mut out = Vec::new();
        // SAFETY: `img` wraps `i420` (length checked above) without copying and is only
        // used during vpx_codec_encode, which reads but does not keep it (no lag frames).
        // Packets returned by vpx_codec_get_cx_data stay valid until the next encode call;
        // their bytes are copied before that.
        unsafe {
            let mut img: vpx_image_t = MaybeUninit::zeroed().assume_init();
            let wrapped = vpx_img_wrap(
                &mut img,
                vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width,
                self.height,
                1,
                i420.as_ptr() as *mut u8,
            );
            if wrapped.is_null() {
                return Err(Vp8Error::Codec("cannot wrap the frame".into()));
            }
            let r = vpx_codec_encode(
                &mut *self.ctx,
                &img,
                self.pts,
                1,
                flags,
                VPX_DL_REALTIME as _,
            );
            self.pts += 1;
            if r != vpx_codec_err_t::VPX_CODEC_OK {
                return Err(Vp8Error::Codec(error_text(&mut self.ctx, r)));
            }
            let mut iter: vpx_codec_iter_t = ptr::null();
            loop {
                let pkt = vpx_codec_get_cx_data(&mut *self.ctx, &mut iter);
                if pkt.is_null() {
                    break;
                }
                if (*pkt).kind != vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                    continue;
                }
                let frame = (*pkt).data.frame;
                let data =
                    std::slice::from_raw_parts(frame.buf as *const u8, frame.sz as usize).to_vec();
                out.push(EncodedFrame {
                    data,
                    keyframe: frame.flags & VPX_FRAME_IS_KEY != 0,
                });
            }
        }
        Ok(out)
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in `new` and is destroyed once.
        unsafe {
            vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

/// A decoded I420 picture.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    pub width: u32,
    pub height: u32,
    /// Tightly packed I420.
    pub i420: Vec<u8>,
}

/// VP8 decoder.
pub struct Vp8Decoder {
    ctx: Box<vpx_codec_ctx_t>,
}

// SAFETY: as for the encoder: exclusive ownership, calls serialised by `&mut self`.
unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub fn new() -> Result<Self, Vp8Error> {
        // SAFETY: zeroed context and config are valid inputs to vpx_codec_dec_init_ver,
        // whose result is checked.
        unsafe {
            let mut ctx: Box<vpx_codec_ctx_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let cfg = vpx_codec_dec_cfg_t {
                threads: 1,
                w: 0,
                h: 0,
            };
            let r = vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx_codec_vp8_dx(),
                &cfg,
                0,
                VPX_DECODER_ABI_VERSION as i32,
            );
            if r != vpx_codec_err_t::VPX_CODEC_OK {
                return Err(Vp8Error::Codec(format!("decoder init: {r:?}")));
            }
            Ok(Vp8Decoder { ctx })
        }
    }

    /// Decode one VP8 frame. A corrupt frame or one whose reference is missing is an
    /// error; decoding resumes with the next keyframe.
    pub fn decode(&mut self, frame: &[u8]) -> Result<Vec<DecodedFrame>, Vp8Error> {
        let mut out = Vec::new();
        // SAFETY: `frame` outlives the decode call; images returned by
        // vpx_codec_get_frame are valid until the next decode call and are copied out
        // row by row within the plane bounds libvpx reports (d_w/d_h, stride).
        unsafe {
            let r = vpx_codec_decode(
                &mut *self.ctx,
                frame.as_ptr(),
                frame.len() as u32,
                ptr::null_mut(),
                0,
            );
            if r != vpx_codec_err_t::VPX_CODEC_OK {
                return Err(Vp8Error::Codec(error_text(&mut self.ctx, r)));
            }
            let mut iter: vpx_codec_iter_t = ptr::null();
            loop {
                let img = vpx_codec_get_frame(&mut *self.ctx, &mut iter);
                if img.is_null() {
                    break;
                }
                let img = &*img;
                let (w, h) = (img.d_w as usize, img.d_h as usize);
                let mut i420 = Vec::with_capacity(i420_len(img.d_w, img.d_h));
                for plane in 0..3 {
                    let (pw, ph) = if plane == 0 {
                        (w, h)
                    } else {
                        (w.div_ceil(2), h.div_ceil(2))
                    };
                    let stride = img.stride[plane] as usize;
                    for row in 0..ph {
                        let start = img.planes[plane].add(row * stride);
                        i420.extend_from_slice(std::slice::from_raw_parts(start, pw));
                    }
                }
                out.push(DecodedFrame {
                    width: img.d_w,
                    height: img.d_h,
                    i420,
                });
            }
        }
        Ok(out)
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe {
            vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: u32, h: u32, y: u8) -> Vec<u8> {
        let mut f = vec![128u8; i420_len(w, h)];
        f[..(w * h) as usize].fill(y);
        f
    }

    #[test]
    fn round_trip_keeps_size_and_brightness() {
        let (w, h) = (160, 120);
        let mut enc = Vp8Encoder::new(w, h, 15, 300).unwrap();
        let mut dec = Vp8Decoder::new().unwrap();
        let mut decoded = 0;
        for i in 0..10 {
            let frames = enc.encode(&gray(w, h, 200), i == 5).unwrap();
            for f in frames {
                if i == 0 || i == 5 {
                    assert!(f.keyframe, "frame {i} is a keyframe");
                }
                for d in dec.decode(&f.data).unwrap() {
                    assert_eq!((d.width, d.height), (w, h));
                    let mean = d.i420[..(w * h) as usize]
                        .iter()
                        .map(|&v| v as u32)
                        .sum::<u32>()
                        / (w * h);
                    assert!((190..=210).contains(&mean), "mean luma {mean}");
                    decoded += 1;
                }
            }
        }
        assert_eq!(decoded, 10);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Vp8Encoder::new(161, 120, 15, 300).is_err());
        let mut enc = Vp8Encoder::new(160, 120, 15, 300).unwrap();
        assert!(matches!(
            enc.encode(&[0; 10], false),
            Err(Vp8Error::FrameSize { .. })
        ));
        let mut dec = Vp8Decoder::new().unwrap();
        assert!(dec.decode(&[0xff; 32]).is_err());
    }
}
