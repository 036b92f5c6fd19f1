//! The files around a chart: the TrueType font its text is drawn with (given, or DejaVu Sans from
//! the usual system places) and the output format, told by the output file's extension.

use std::path::{Path, PathBuf};

use crate::chart::{self, Format};
use crate::error::{Error, ErrorKind};

/// Where systems commonly install DejaVu Sans.
const SYSTEM_FONTS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
];

/// The font file to use: `explicit`, else the first system copy of DejaVu Sans found.
pub fn font_file(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => SYSTEM_FONTS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::input(
                    "--font",
                    "no chart font found: install DejaVu Sans (fonts-dejavu-core) or pass --font FILE.ttf",
                )
            }),
    }
}

/// Reads the font ([`font_file`]) and registers it for every chart drawn by this process.
pub fn load_font(explicit: Option<&Path>) -> Result<(), Error> {
    let path = font_file(explicit)?;
    let bytes = std::fs::read(&path).map_err(|source| {
        Error::new(ErrorKind::Io {
            path: path.clone(),
            source,
        })
    })?;
    // plotters keeps registered fonts for the life of the process; a process draws few charts.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    chart::register_font(bytes)
}

impl Format {
    /// SVG for `.svg`, PNG for `.png` (any case); other extensions are refused.
    pub fn for_file(out: &Path) -> Result<Format, Error> {
        match out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(Error::input(
                "--out",
                format!(
                    "{}: the output file must end in .svg or .png",
                    out.display()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_tells_the_format() {
        assert_eq!(Format::for_file(Path::new("a/b.SVG")).unwrap(), Format::Svg);
        assert_eq!(Format::for_file(Path::new("b.png")).unwrap(), Format::Png);
        let err = Format::for_file(Path::new("b.jpg")).unwrap_err();
        assert!(err
            .to_string()
            .contains("b.jpg: the output file must end in .svg or .png"));
        assert!(Format::for_file(Path::new("noext")).is_err());
    }

    #[test]
    fn an_explicit_font_wins_and_a_missing_one_is_an_io_error() {
        let given = Path::new("/nonexistent/font.ttf");
        assert_eq!(font_file(Some(given)).unwrap(), given);
        let err = load_font(Some(given)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_font_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.ttf");
        std::fs::write(&file, b"not a font").unwrap();
        assert!(load_font(Some(&file)).is_err());
    }
}
