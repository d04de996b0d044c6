//! The candidate page's device report (`POST /v1/candidate/device`): what the browser says
//! about its machine. Every field is optional (browsers differ) and unknown fields are
//! refused. Its machine signals and its fingerprint, a keyed hash of its stable parts.

use serde::{Deserialize, Serialize};

/// Text fields are kept to this many characters.
pub const TEXT_KEPT: usize = 256;
/// At most this many languages are kept.
pub const LANGUAGES_KEPT: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub colour_depth: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaDevices {
    pub cameras: Option<u32>,
    pub microphones: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebGl {
    pub vendor: Option<String>,
    pub renderer: Option<String>,
}

/// What the candidate's browser reports about its machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceReport {
    /// IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
    pub timezone: Option<String>,
    /// Minutes east of UTC.
    pub utc_offset_minutes: Option<i32>,
    pub languages: Option<Vec<String>>,
    pub screen: Option<Screen>,
    pub hardware_concurrency: Option<u32>,
    pub device_memory_gb: Option<f32>,
    pub platform: Option<String>,
    pub touch_points: Option<u32>,
    pub webdriver: Option<bool>,
    pub media_devices: Option<MediaDevices>,
    pub webgl: Option<WebGl>,
}

/// Why a report is refused (beyond malformed JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub rule: &'static str,
}

impl DeviceReport {
    /// Checks ranges and lengths: a report is a browser's, not a place to store data.
    pub fn validate(&self) -> Result<(), Invalid> {
        let text = |field, v: &Option<String>| match v {
            Some(s) if s.chars().count() > TEXT_KEPT || s.chars().any(char::is_control) => {
                Err(Invalid { field, rule: "text_too_long_or_control" })
            }
            _ => Ok(()),
        };
        text("timezone", &self.timezone)?;
        text("platform", &self.platform)?;
        if let Some(gl) = &self.webgl {
            text("webgl.vendor", &gl.vendor)?;
            text("webgl.renderer", &gl.renderer)?;
        }
        if let Some(langs) = &self.languages
            && (langs.len() > LANGUAGES_KEPT || langs.iter().any(|l| l.len() > 35 || !is_language_tag(l)))
        {
            return Err(Invalid { field: "languages", rule: "language_tags" });
        }
        if self.utc_offset_minutes.is_some_and(|m| !(-14 * 60..=14 * 60).contains(&m)) {
            return Err(Invalid { field: "utc_offset_minutes", rule: "out_of_range" });
        }
        if let Some(s) = &self.screen
            && ([s.width, s.height].iter().flatten().any(|d| *d > 100_000) || s.colour_depth.is_some_and(|d| d > 64))
        {
            return Err(Invalid { field: "screen", rule: "out_of_range" });
        }
        if self.hardware_concurrency.is_some_and(|c| c > 4096) || self.touch_points.is_some_and(|t| t > 256) {
            return Err(Invalid { field: "hardware_concurrency", rule: "out_of_range" });
        }
        if self.device_memory_gb.is_some_and(|m| !(0.0..=4096.0).contains(&m)) {
            return Err(Invalid { field: "device_memory_gb", rule: "out_of_range" });
        }
        if let Some(m) = &self.media_devices
            && [m.cameras, m.microphones].iter().flatten().any(|n| *n > 64)
        {
            return Err(Invalid { field: "media_devices", rule: "out_of_range" });
        }
        Ok(())
    }

    /// The parts that stay the same across sessions on one machine and browser, as one
    /// string (keyed-hashed by the caller): not the time zone or languages (a farm changes
    /// those per identity), not media device counts (a camera is plugged in).
    pub fn stable_parts(&self) -> Option<String> {
        let screen = self.screen.clone().unwrap_or_default();
        let gl = self.webgl.clone().unwrap_or_default();
        let parts = [
            self.platform.clone(),
            screen.width.map(|w| w.to_string()),
            screen.height.map(|h| h.to_string()),
            screen.colour_depth.map(|d| d.to_string()),
            self.hardware_concurrency.map(|c| c.to_string()),
            self.device_memory_gb.map(|m| format!("{m:.2}")),
            self.touch_points.map(|t| t.to_string()),
            gl.vendor,
            gl.renderer,
        ];
        // Too little to tell machines apart: no fingerprint rather than one shared by many.
        let known = parts.iter().filter(|p| p.is_some()).count();
        (known >= 5).then(|| parts.map(Option::unwrap_or_default).join("|"))
    }

    /// The region subtags of the reported languages (`ko-KP` → `KP`), upper case.
    pub fn language_regions(&self) -> Vec<String> {
        self.languages.iter().flatten().filter_map(|l| region_of(l)).collect()
    }
}

/// BCP 47's shape, roughly: letters, digits and hyphens, starting with a letter.
fn is_language_tag(tag: &str) -> bool {
    tag.starts_with(|c: char| c.is_ascii_alphabetic()) && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The region of a language tag: the first two-letter subtag after the language.
pub fn region_of(tag: &str) -> Option<String> {
    tag.split(['-', '_'])
        .skip(1)
        .find(|s| s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_uppercase)
}

/// Renderers of virtual machines, remote desktops and software rasterisers (lower case).
const VIRTUAL_RENDERERS: &[(&str, &str)] = &[
    ("llvmpipe", "software rasteriser (llvmpipe)"),
    ("softpipe", "software rasteriser (softpipe)"),
    ("swiftshader", "software rasteriser (SwiftShader)"),
    ("microsoft basic render driver", "no GPU driver (Microsoft Basic Render Driver)"),
    ("vmware", "VMware virtual GPU"),
    ("svga3d", "VMware virtual GPU"),
    ("virtualbox", "VirtualBox virtual GPU"),
    ("vboxvga", "VirtualBox virtual GPU"),
    ("parallels", "Parallels virtual GPU"),
    ("citrix", "Citrix remote session"),
    ("hyper-v", "Hyper-V virtual GPU"),
    ("microsoft remote display", "Remote Desktop display adapter"),
    ("rdpudd", "Remote Desktop display adapter"),
    ("qxl", "QEMU/SPICE virtual GPU"),
    ("virgl", "QEMU virtio GPU"),
    ("red hat", "QEMU virtual GPU"),
    ("bochs", "QEMU virtual GPU"),
    ("amazon", "cloud desktop GPU"),
];

/// What in the report is typical of a virtual machine or remote session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineTraits {
    /// Why the renderer is a virtual, remote or software one.
    pub virtual_renderer: Option<&'static str>,
    pub webdriver: bool,
    /// Smaller traits of remote sessions (each weak alone).
    pub remote_traits: Vec<&'static str>,
}

pub fn machine_traits(report: &DeviceReport) -> MachineTraits {
    let gl = report.webgl.clone().unwrap_or_default();
    let text = format!("{} {}", gl.vendor.unwrap_or_default(), gl.renderer.unwrap_or_default()).to_lowercase();
    let virtual_renderer = VIRTUAL_RENDERERS.iter().find(|(needle, _)| text.contains(needle)).map(|(_, why)| *why);
    let mut remote_traits = Vec::new();
    if let Some(s) = &report.screen {
        if s.colour_depth.is_some_and(|d| d < 24) {
            remote_traits.push("colour_depth_below_24");
        }
        if matches!((s.width, s.height), (Some(800), Some(600)) | (Some(1024), Some(768)) | (Some(1280), Some(800))) {
            remote_traits.push("default_virtual_display_size");
        }
    }
    if report.media_devices.as_ref().and_then(|m| m.cameras) == Some(0) {
        remote_traits.push("no_camera");
    }
    if report.hardware_concurrency.is_some_and(|c| c <= 2) && report.device_memory_gb.is_some_and(|m| m <= 2.0) {
        remote_traits.push("minimal_virtual_hardware");
    }
    MachineTraits { virtual_renderer, webdriver: report.webdriver == Some(true), remote_traits }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DeviceReport {
        serde_json::from_str(
            r#"{"timezone": "Europe/Prague", "utc_offset_minutes": 60, "languages": ["cs-CZ", "cs", "en"],
            "screen": {"width": 1920, "height": 1080, "colour_depth": 24}, "hardware_concurrency": 8, "device_memory_gb": 8,
            "platform": "Win32", "touch_points": 0, "webdriver": false, "media_devices": {"cameras": 1, "microphones": 1},
            "webgl": {"vendor": "Google Inc. (Intel)", "renderer": "ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_issue_example_is_a_clean_report() {
        let r = sample();
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(machine_traits(&r), MachineTraits::default());
        assert_eq!(r.language_regions(), ["CZ"]);
        let mut moved = r.clone();
        moved.timezone = Some("Asia/Shanghai".into());
        moved.languages = Some(vec!["zh-CN".into()]);
        assert_eq!(moved.stable_parts(), r.stable_parts(), "a farm changes the time zone per identity");
        assert!(DeviceReport::default().stable_parts().is_none());
    }

    #[test]
    fn virtual_machines_and_automation_are_seen() {
        let mut r = sample();
        r.webgl = Some(WebGl {
            vendor: Some("Google Inc. (Google)".into()),
            renderer: Some("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)".into()),
        });
        r.webdriver = Some(true);
        r.screen = Some(Screen { width: Some(1024), height: Some(768), colour_depth: Some(16) });
        let t = machine_traits(&r);
        assert_eq!(t.virtual_renderer, Some("software rasteriser (SwiftShader)"));
        assert!(t.webdriver);
        assert_eq!(t.remote_traits, ["colour_depth_below_24", "default_virtual_display_size"]);
    }

    #[test]
    fn unknown_fields_and_absurd_values_are_refused() {
        assert!(serde_json::from_str::<DeviceReport>(r#"{"canvas": "x"}"#).is_err());
        assert!(serde_json::from_str::<DeviceReport>(r#"{"screen": {"depth": 1}}"#).is_err());
        let long = DeviceReport { platform: Some("x".repeat(300)), ..DeviceReport::default() };
        assert_eq!(long.validate().unwrap_err().field, "platform");
        let bad = DeviceReport { languages: Some(vec!["<script>".into()]), ..DeviceReport::default() };
        assert_eq!(bad.validate().unwrap_err().rule, "language_tags");
        assert_eq!(region_of("ko-KP").as_deref(), Some("KP"));
        assert_eq!(region_of("zh-Hant-TW").as_deref(), Some("TW"));
        assert_eq!(region_of("en"), None);
    }
}
