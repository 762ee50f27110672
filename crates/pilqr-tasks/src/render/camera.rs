//! Orthographic cameras: world points to pixels and depth.

use crate::world::{Rgb, Rotation, Vector};

/// An orthographic camera.
///
/// A world point `p` maps to camera coordinates `c = R (p − center)` (x right, y up, z toward
/// the viewer), then to the pixel `(W/2 + s·c_x, H/2 − s·c_y)` with `s` pixels per metre;
/// `c_z` is the depth used to sort shapes (larger = nearer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// World point at the image centre.
    pub center: Vector,
    /// World-to-camera rotation `R`.
    pub rotation: Rotation,
    /// Scale `s` (pixels per metre).
    pub pixels_per_meter: f32,
    /// Image width (pixels).
    pub width: u32,
    /// Image height (pixels).
    pub height: u32,
    /// Background colour.
    pub background: Rgb,
}

impl Camera {
    /// Looking down −z at `center`, showing a square of side `extent` metres in `size` pixels.
    pub fn top_down(center: Vector, extent: f32, size: u32) -> Self {
        Camera {
            center,
            rotation: Rotation::IDENTITY,
            pixels_per_meter: size as f32 / extent,
            width: size,
            height: size,
            background: [250, 250, 250],
        }
    }

    /// Looking at `center` from the azimuth `yaw` (rad, about z; 0 = from −y) and the
    /// `elevation` above the horizon (rad; π/2 = top-down).
    pub fn oblique(center: Vector, extent: f32, size: u32, yaw: f32, elevation: f32) -> Self {
        let r = Rotation::from_rotation_x(-(std::f32::consts::FRAC_PI_2 - elevation))
            * Rotation::from_rotation_z(-yaw);
        Camera {
            rotation: r,
            ..Camera::top_down(center, extent, size)
        }
    }

    /// Camera coordinates of a world point.
    #[inline]
    pub fn to_camera(&self, p: Vector) -> Vector {
        self.rotation * (p - self.center)
    }

    /// Pixel coordinates (x, y) of camera coordinates.
    #[inline]
    pub fn to_pixel(&self, c: Vector) -> [f32; 2] {
        [
            self.width as f32 * 0.5 + self.pixels_per_meter * c.x,
            self.height as f32 * 0.5 - self.pixels_per_meter * c.y,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_down_maps_world_axes_to_image_axes() {
        let cam = Camera::top_down(Vector::new(1.0, 2.0, 0.0), 2.0, 200);
        assert_eq!(
            cam.to_pixel(cam.to_camera(Vector::new(1.0, 2.0, 5.0))),
            [100.0, 100.0]
        );
        // +x goes right, +y goes up (smaller row), z is depth toward the viewer.
        assert_eq!(
            cam.to_pixel(cam.to_camera(Vector::new(1.5, 2.5, 0.0))),
            [150.0, 50.0]
        );
        assert!(cam.to_camera(Vector::new(1.0, 2.0, 1.0)).z > 0.0);
    }

    #[test]
    fn oblique_from_the_side_shows_z_up_and_the_top_down_limit_agrees() {
        let c = Vector::ZERO;
        let side = Camera::oblique(c, 2.0, 100, 0.0, 0.0);
        let up = side.to_camera(Vector::Z);
        assert!((up - Vector::Y).length() < 1e-6, "{up:?}");
        // Seen from −y, +y points away from the viewer.
        assert!(side.to_camera(Vector::Y).z < -0.99);
        let top = Camera::oblique(c, 2.0, 100, 0.0, std::f32::consts::FRAC_PI_2);
        let p = Vector::new(0.3, -0.2, 0.1);
        assert!((top.to_camera(p) - Camera::top_down(c, 2.0, 100).to_camera(p)).length() < 1e-6);
    }
}
