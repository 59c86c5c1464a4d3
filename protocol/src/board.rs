//! The whiteboard: a board of pages, each a stack of drawn objects (strokes, shapes,
//! text), drawn together and kept with the room.
//!
//! Clients send requests (`board_add`, `board_erase`, ...). The relay checks each, turns
//! it into a [`BoardChange`], gives it the board's next sequence number, stores it, and
//! sends it to everyone as a `board_op`. Every client applies the same changes in the
//! same order with [`Board::apply`], so all boards agree. Strokes being drawn are sent as
//! `board_live` while the pen moves; they are not stored, and the finished stroke is one
//! `board_add`.
//!
//! Coordinates are page units: a page is [`PAGE_WIDTH`] × [`PAGE_HEIGHT`] (16:9), so
//! windows of any size show the same drawing.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Width of a page in page units.
pub const PAGE_WIDTH: u16 = 16_000;
/// Height of a page in page units.
pub const PAGE_HEIGHT: u16 = 9_000;
/// Largest pressure value of a point (a full press).
pub const MAX_PRESSURE: u16 = 100;

/// Most points in one stroke.
pub const MAX_POINTS: usize = 2_000;
/// Most objects on one page.
pub const MAX_OBJECTS_PER_PAGE: usize = 2_000;
/// Most pages on a board (annotation pages included).
pub const MAX_PAGES: usize = 50;
/// Longest text object, in bytes (UTF-8).
pub const MAX_TEXT_BYTES: usize = 2_000;
/// Largest board: the sum of its objects' sizes, as JSON.
pub const MAX_BOARD_BYTES: usize = 8 * 1024 * 1024;
/// Longest object or page id, in bytes.
pub const MAX_BOARD_ID_LEN: usize = 64;
/// Most people a host can name as drawers.
pub const MAX_DRAWERS: usize = 100;
/// Line widths allowed, in page units (checked for every object, text too).
pub const WIDTH_RANGE: (u16, u16) = (1, 1_000);
/// Text sizes allowed (the height of a line), in page units.
pub const TEXT_SIZE_RANGE: (u16, u16) = (100, 3_000);

/// Stored changes one person may send: a burst, then this many a second.
pub const OPS_PER_SECOND: u32 = 20;
/// Under the connection's message burst (50 by default), so that in a burst this limit,
/// whose error names the request, is the one reached.
pub const OPS_BURST: u32 = 40;
/// `board_live` messages one person may send a second (the pen is sent about 30 times a
/// second); more are dropped, not refused.
pub const LIVE_PER_SECOND: u32 = 40;
pub const LIVE_BURST: u32 = 40;

/// Id of the page a new board starts with.
pub const FIRST_PAGE: &str = "page-1";

/// A point of a stroke: `[x, y, pressure]`, pressure 0–100 (50 for a mouse).
pub type StrokePoint = [u16; 3];
/// A point of a shape: `[x, y]`.
pub type PagePoint = [u16; 2];

/// What an object is, with its geometry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A freehand stroke.
    Pen {
        points: Vec<StrokePoint>,
    },
    /// A freehand stroke drawn see-through, under the ink.
    Highlighter {
        points: Vec<StrokePoint>,
    },
    Line {
        from: PagePoint,
        to: PagePoint,
    },
    Arrow {
        from: PagePoint,
        to: PagePoint,
    },
    /// A rectangle between two corners.
    Rect {
        from: PagePoint,
        to: PagePoint,
    },
    /// An ellipse inside the rectangle between two corners.
    Ellipse {
        from: PagePoint,
        to: PagePoint,
    },
    /// Text whose first line's top-left corner is `at`; `size` is the line height.
    Text {
        at: PagePoint,
        text: String,
        size: u16,
    },
}

impl Shape {
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Pen { .. } => "pen",
            Shape::Highlighter { .. } => "highlighter",
            Shape::Line { .. } => "line",
            Shape::Arrow { .. } => "arrow",
            Shape::Rect { .. } => "rect",
            Shape::Ellipse { .. } => "ellipse",
            Shape::Text { .. } => "text",
        }
    }

    fn validate(&self) -> Result<(), BoardError> {
        match self {
            Shape::Pen { points } | Shape::Highlighter { points } => {
                if points.is_empty() {
                    return Err(BoardError::bad("points: a stroke needs at least one point"));
                }
                if points.len() > MAX_POINTS {
                    return Err(BoardError::limit(format!(
                        "points_per_stroke: a stroke has at most {MAX_POINTS} points (got {})",
                        points.len()
                    )));
                }
                for p in points {
                    on_page(p[0], p[1])?;
                    if p[2] > MAX_PRESSURE {
                        return Err(BoardError::range(format!(
                            "pressure must be between 0 and {MAX_PRESSURE} (got {})",
                            p[2]
                        )));
                    }
                }
            }
            Shape::Line { from, to }
            | Shape::Arrow { from, to }
            | Shape::Rect { from, to }
            | Shape::Ellipse { from, to } => {
                on_page(from[0], from[1])?;
                on_page(to[0], to[1])?;
            }
            Shape::Text { at, text, size } => {
                on_page(at[0], at[1])?;
                if text.trim().is_empty() {
                    return Err(BoardError::new(ErrorCode::InvalidText, "text is empty"));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(BoardError::limit(format!(
                        "text_bytes: a text has at most {MAX_TEXT_BYTES} bytes (got {})",
                        text.len()
                    )));
                }
                if let Some(c) = crate::forbidden_control(text) {
                    return Err(BoardError::new(
                        ErrorCode::InvalidText,
                        format!("text may not hold the control character U+{:04X}", c as u32),
                    ));
                }
                in_range("size", *size, TEXT_SIZE_RANGE)?;
            }
        }
        Ok(())
    }
}

fn on_page(x: u16, y: u16) -> Result<(), BoardError> {
    if x > PAGE_WIDTH || y > PAGE_HEIGHT {
        return Err(BoardError::range(format!(
            "points must lie on the page: x 0–{PAGE_WIDTH}, y 0–{PAGE_HEIGHT} (got {x}, {y})"
        )));
    }
    Ok(())
}

fn in_range(field: &str, value: u16, (min, max): (u16, u16)) -> Result<(), BoardError> {
    if value < min || value > max {
        return Err(BoardError::range(format!(
            "{field} must be between {min} and {max} (got {value})"
        )));
    }
    Ok(())
}

/// How an object is drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Style {
    /// `#rrggbb`.
    pub color: String,
    /// Line width in page units (ignored for text).
    pub width: u16,
    /// Rectangles and ellipses: filled with the colour.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fill: bool,
}

impl Style {
    fn validate(&self) -> Result<(), BoardError> {
        let hex = self.color.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BoardError::bad(format!(
                "color must be #rrggbb (got {:?})",
                truncated(&self.color)
            )));
        }
        in_range("width", self.width, WIDTH_RANGE)
    }
}

/// One drawn object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BoardObject {
    /// Chosen by the client that draws it; unique on the board.
    pub id: String,
    /// Who drew it (set by the relay; a client's value is ignored).
    #[serde(default)]
    pub author: String,
    pub shape: Shape,
    pub style: Style,
}

impl BoardObject {
    /// Check the object's fields (not its place on the board).
    pub fn validate(&self) -> Result<(), BoardError> {
        check_id("object id", &self.id)?;
        self.shape.validate()?;
        self.style.validate()
    }

    /// Its size as it counts against [`MAX_BOARD_BYTES`]: its JSON length.
    pub fn weight(&self) -> usize {
        serde_json::to_vec(self).map(|v| v.len()).unwrap_or(0)
    }
}

fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Check an id: 1–64 bytes of letters, digits, `-`, `_`, `.` and `:`.
pub fn check_id(what: &str, id: &str) -> Result<(), BoardError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_BOARD_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if !ok {
        return Err(BoardError::new(
            ErrorCode::InvalidId,
            format!(
                "{what} must be 1–{MAX_BOARD_ID_LEN} letters, digits, '-', '_', '.' or ':' (got {:?})",
                truncated(id)
            ),
        ));
    }
    Ok(())
}

/// Check an identity named on the board (a drawer, the sharer an annotation page is
/// over): as the relay takes identities from tokens, 1–64 bytes, no control characters,
/// no spaces around.
pub fn check_identity(what: &str, identity: &str) -> Result<(), BoardError> {
    let ok = !identity.is_empty()
        && identity.len() <= crate::MAX_ID_LEN
        && !identity.chars().any(char::is_control)
        && identity.trim() == identity;
    if !ok {
        return Err(BoardError::new(
            ErrorCode::InvalidId,
            format!(
                "{what} must be an identity: 1–{} bytes, no control characters or surrounding spaces",
                crate::MAX_ID_LEN
            ),
        ));
    }
    Ok(())
}

/// A page of the board, with its objects bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Page {
    pub id: String,
    /// Set on an annotation page: the identity whose screen share it is drawn over. Such
    /// a page is shown over that share, not among the board's pages, until it is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotates: Option<String>,
    #[serde(default)]
    pub objects: Vec<BoardObject>,
}

/// Who may draw besides the hosts and presenters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BoardAccess {
    /// Everyone in the room draws.
    #[serde(default)]
    pub everyone: bool,
    /// These identities draw.
    #[serde(default)]
    pub drawers: Vec<String>,
}

impl BoardAccess {
    /// Whether `identity` (a host or presenter when `presents`) may draw.
    pub fn can_draw(&self, identity: &str, presents: bool) -> bool {
        presents || self.everyone || self.drawers.iter().any(|d| d == identity)
    }
}

/// An object with the place it had in its page's stack (for putting it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Placed {
    /// Index in the page's stack, bottom 0.
    pub index: u32,
    pub object: BoardObject,
}

/// A page without its objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PageInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotates: Option<String>,
    /// How many objects it holds.
    #[serde(default)]
    pub objects: u32,
}

/// One stored change of the board, as the relay decided it. Applying the same changes
/// in the same order gives the same board everywhere ([`Board::apply`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BoardChange {
    /// Put `object` on top of `page`.
    Add {
        page: String,
        object: BoardObject,
    },
    /// Replace the object with `object.id`, in its place.
    Update {
        page: String,
        object: BoardObject,
    },
    /// Remove these objects.
    Erase {
        page: String,
        ids: Vec<String>,
    },
    /// Remove every object of `page`.
    Clear {
        page: String,
    },
    /// Put objects back at their places, lowest index first (an index past the top
    /// puts the object on top).
    Restore {
        page: String,
        objects: Vec<Placed>,
    },
    /// Insert an empty page at `index` (past the end: at the end).
    AddPage {
        page: String,
        index: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotates: Option<String>,
    },
    RemovePage {
        page: String,
    },
    /// Put a removed page back, with its objects, at `index`.
    RestorePage {
        index: u32,
        page: Page,
    },
    /// Move `page` to `index` (past the end: the end).
    MovePage {
        page: String,
        index: u32,
    },
    /// Set or clear what `page` annotates; clearing it keeps the page as a board page.
    Annotates {
        page: String,
        #[serde(default)]
        annotates: Option<String>,
    },
    /// Who may draw.
    Access {
        access: BoardAccess,
    },
}

impl BoardChange {
    pub fn op(&self) -> &'static str {
        match self {
            BoardChange::Add { .. } => "add",
            BoardChange::Update { .. } => "update",
            BoardChange::Erase { .. } => "erase",
            BoardChange::Clear { .. } => "clear",
            BoardChange::Restore { .. } => "restore",
            BoardChange::AddPage { .. } => "add_page",
            BoardChange::RemovePage { .. } => "remove_page",
            BoardChange::RestorePage { .. } => "restore_page",
            BoardChange::MovePage { .. } => "move_page",
            BoardChange::Annotates { .. } => "annotates",
            BoardChange::Access { .. } => "access",
        }
    }
}

/// A change with its place in the board's order: the `board_op` event, and what the
/// relay stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BoardOp {
    /// The board's sequence number of this change: 1, 2, 3, ... with no gaps.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub seq: u64,
    /// Who made it.
    pub by: String,
    /// When the relay took it, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at: u64,
    pub change: BoardChange,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardError {
    pub code: ErrorCode,
    pub message: String,
}

impl BoardError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        BoardError {
            code,
            message: message.into(),
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadMessage, message)
    }
    fn range(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::OutOfRange, message)
    }
    fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitReached, message)
    }
    fn no_page(page: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no page {:?} on the board", truncated(page)),
        )
    }
}

impl std::fmt::Display for BoardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A whole board: what the relay stores as a snapshot and sends a joiner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Board {
    /// Made when the board is made; a board made afresh (the old one expired) has a new
    /// one, so a client knows its sequence numbers no longer count.
    pub id: String,
    /// The sequence number of the last change applied.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub seq: u64,
    #[serde(default)]
    pub access: BoardAccess,
    pub pages: Vec<Page>,
    /// The sum of the objects' weights ([`BoardObject::weight`]).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    bytes: usize,
}

impl Board {
    /// A new board with one empty page.
    pub fn new(id: impl Into<String>) -> Board {
        Board {
            id: id.into(),
            seq: 0,
            access: BoardAccess::default(),
            pages: vec![Page {
                id: FIRST_PAGE.into(),
                annotates: None,
                objects: vec![],
            }],
            bytes: 0,
        }
    }

    /// Count the objects' weights again (after deserializing).
    pub fn recount(&mut self) {
        self.bytes = self
            .pages
            .iter()
            .flat_map(|p| &p.objects)
            .map(BoardObject::weight)
            .sum();
    }

    /// The board's size, as it counts against [`MAX_BOARD_BYTES`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn objects(&self) -> usize {
        self.pages.iter().map(|p| p.objects.len()).sum()
    }

    pub fn page(&self, id: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.id == id)
    }

    fn page_index(&self, id: &str) -> Result<usize, BoardError> {
        self.pages
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| BoardError::no_page(id))
    }

    /// The pages without their objects.
    pub fn page_infos(&self) -> Vec<PageInfo> {
        self.pages
            .iter()
            .map(|p| PageInfo {
                id: p.id.clone(),
                annotates: p.annotates.clone(),
                objects: p.objects.len() as u32,
            })
            .collect()
    }

    fn has_object(&self, id: &str) -> bool {
        self.pages
            .iter()
            .any(|p| p.objects.iter().any(|o| o.id == id))
    }

    fn object_ids(&self) -> std::collections::HashSet<&str> {
        self.pages
            .iter()
            .flat_map(|p| &p.objects)
            .map(|o| o.id.as_str())
            .collect()
    }

    fn board_pages(&self) -> usize {
        self.pages.iter().filter(|p| p.annotates.is_none()).count()
    }

    fn room_for(&self, adding: usize, on_page: usize) -> Result<(), BoardError> {
        if on_page > MAX_OBJECTS_PER_PAGE {
            return Err(BoardError::limit(format!(
                "objects_per_page: a page holds at most {MAX_OBJECTS_PER_PAGE} objects"
            )));
        }
        if self.bytes + adding > MAX_BOARD_BYTES {
            return Err(BoardError::limit(format!(
                "board_bytes: a board holds at most {} MiB of drawing",
                MAX_BOARD_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// Apply `change`, or refuse it and change nothing. Returns the change that undoes
    /// it (against the board as it is after this one).
    pub fn apply(&mut self, change: &BoardChange) -> Result<BoardChange, BoardError> {
        match change {
            BoardChange::Add { page, object } => {
                object.validate()?;
                let p = self.page_index(page)?;
                if self.has_object(&object.id) {
                    return Err(BoardError::new(
                        ErrorCode::InvalidState,
                        format!("an object {:?} is already on the board", object.id),
                    ));
                }
                let weight = object.weight();
                self.room_for(weight, self.pages[p].objects.len() + 1)?;
                self.pages[p].objects.push(object.clone());
                self.bytes += weight;
                Ok(BoardChange::Erase {
                    page: page.clone(),
                    ids: vec![object.id.clone()],
                })
            }
            BoardChange::Update { page, object } => {
                object.validate()?;
                let p = self.page_index(page)?;
                let Some(i) = self.pages[p].objects.iter().position(|o| o.id == object.id) else {
                    return Err(no_object(&object.id));
                };
                let old_weight = self.pages[p].objects[i].weight();
                let weight = object.weight();
                self.room_for(
                    weight.saturating_sub(old_weight),
                    self.pages[p].objects.len(),
                )?;
                let old = std::mem::replace(&mut self.pages[p].objects[i], object.clone());
                self.bytes = self.bytes + weight - old_weight;
                Ok(BoardChange::Update {
                    page: page.clone(),
                    object: old,
                })
            }
            BoardChange::Erase { page, ids } => {
                let p = self.page_index(page)?;
                if ids.is_empty() {
                    return Err(BoardError::bad("erase names no object"));
                }
                if let Some(missing) = ids
                    .iter()
                    .find(|id| !self.pages[p].objects.iter().any(|o| &o.id == *id))
                {
                    return Err(no_object(missing));
                }
                let mut removed = vec![];
                let mut index = 0u32;
                self.pages[p].objects.retain(|o| {
                    let keep = !ids.contains(&o.id);
                    if !keep {
                        removed.push(Placed {
                            index,
                            object: o.clone(),
                        });
                    }
                    index += 1;
                    keep
                });
                self.bytes -= removed.iter().map(|r| r.object.weight()).sum::<usize>();
                Ok(BoardChange::Restore {
                    page: page.clone(),
                    objects: removed,
                })
            }
            BoardChange::Clear { page } => {
                let p = self.page_index(page)?;
                let objects = std::mem::take(&mut self.pages[p].objects);
                self.bytes -= objects.iter().map(BoardObject::weight).sum::<usize>();
                Ok(BoardChange::Restore {
                    page: page.clone(),
                    objects: objects
                        .into_iter()
                        .enumerate()
                        .map(|(i, object)| Placed {
                            index: i as u32,
                            object,
                        })
                        .collect(),
                })
            }
            BoardChange::Restore { page, objects } => {
                let p = self.page_index(page)?;
                if objects.is_empty() {
                    return Err(BoardError::bad("restore names no object"));
                }
                let mut weight = 0;
                let mut ids = self.object_ids();
                for (i, placed) in objects.iter().enumerate() {
                    placed.object.validate()?;
                    if i > 0 && placed.index <= objects[i - 1].index {
                        return Err(BoardError::bad("restored objects must be lowest first"));
                    }
                    if !ids.insert(placed.object.id.as_str()) {
                        return Err(BoardError::new(
                            ErrorCode::InvalidState,
                            format!("an object {:?} is already on the board", placed.object.id),
                        ));
                    }
                    weight += placed.object.weight();
                }
                self.room_for(weight, self.pages[p].objects.len() + objects.len())?;
                let stack = &mut self.pages[p].objects;
                for placed in objects {
                    let at = (placed.index as usize).min(stack.len());
                    stack.insert(at, placed.object.clone());
                }
                self.bytes += weight;
                Ok(BoardChange::Erase {
                    page: page.clone(),
                    ids: objects.iter().map(|o| o.object.id.clone()).collect(),
                })
            }
            BoardChange::AddPage {
                page,
                index,
                annotates,
            } => {
                self.insert_page(
                    *index,
                    Page {
                        id: page.clone(),
                        annotates: annotates.clone(),
                        objects: vec![],
                    },
                )?;
                Ok(BoardChange::RemovePage { page: page.clone() })
            }
            BoardChange::RestorePage { index, page } => {
                let mut weight = 0;
                let mut ids = self.object_ids();
                for object in &page.objects {
                    object.validate()?;
                    if !ids.insert(object.id.as_str()) {
                        return Err(BoardError::new(
                            ErrorCode::InvalidState,
                            format!("an object {:?} is already on the board", object.id),
                        ));
                    }
                    weight += object.weight();
                }
                self.room_for(weight, page.objects.len())?;
                self.insert_page(*index, page.clone())?;
                self.bytes += weight;
                Ok(BoardChange::RemovePage {
                    page: page.id.clone(),
                })
            }
            BoardChange::RemovePage { page } => {
                let p = self.page_index(page)?;
                if self.pages[p].annotates.is_none() && self.board_pages() == 1 {
                    return Err(BoardError::new(
                        ErrorCode::InvalidState,
                        "a board keeps at least one page (clear it instead)",
                    ));
                }
                let removed = self.pages.remove(p);
                self.bytes -= removed
                    .objects
                    .iter()
                    .map(BoardObject::weight)
                    .sum::<usize>();
                Ok(BoardChange::RestorePage {
                    index: p as u32,
                    page: removed,
                })
            }
            BoardChange::MovePage { page, index } => {
                let p = self.page_index(page)?;
                let moved = self.pages.remove(p);
                let at = (*index as usize).min(self.pages.len());
                self.pages.insert(at, moved);
                Ok(BoardChange::MovePage {
                    page: page.clone(),
                    index: p as u32,
                })
            }
            BoardChange::Annotates { page, annotates } => {
                if let Some(who) = annotates {
                    check_identity("annotates", who)?;
                }
                let p = self.page_index(page)?;
                if annotates.is_some()
                    && self.pages[p].annotates.is_none()
                    && self.board_pages() == 1
                {
                    return Err(BoardError::new(
                        ErrorCode::InvalidState,
                        "a board keeps at least one page",
                    ));
                }
                let old = std::mem::replace(&mut self.pages[p].annotates, annotates.clone());
                Ok(BoardChange::Annotates {
                    page: page.clone(),
                    annotates: old,
                })
            }
            BoardChange::Access { access } => {
                if access.drawers.len() > MAX_DRAWERS {
                    return Err(BoardError::limit(format!(
                        "drawers: at most {MAX_DRAWERS} people can be named"
                    )));
                }
                for d in &access.drawers {
                    check_identity("drawer", d)?;
                }
                let old = std::mem::replace(&mut self.access, access.clone());
                Ok(BoardChange::Access { access: old })
            }
        }
    }

    fn insert_page(&mut self, index: u32, page: Page) -> Result<(), BoardError> {
        check_id("page id", &page.id)?;
        if let Some(who) = &page.annotates {
            check_identity("annotates", who)?;
        }
        if self.pages.iter().any(|p| p.id == page.id) {
            return Err(BoardError::new(
                ErrorCode::InvalidState,
                format!("a page {:?} is already on the board", page.id),
            ));
        }
        if self.pages.len() >= MAX_PAGES {
            return Err(BoardError::limit(format!(
                "pages_per_board: a board has at most {MAX_PAGES} pages"
            )));
        }
        let at = (index as usize).min(self.pages.len());
        self.pages.insert(at, page);
        Ok(())
    }

    /// Apply a stored op: the next in sequence. An op out of sequence is an error (the
    /// caller missed some and must fetch them or the whole board).
    pub fn apply_op(&mut self, op: &BoardOp) -> Result<(), BoardError> {
        if op.seq != self.seq + 1 {
            return Err(BoardError::new(
                ErrorCode::InvalidState,
                format!("op {} does not follow op {}", op.seq, self.seq),
            ));
        }
        self.apply(&op.change)?;
        self.seq = op.seq;
        Ok(())
    }

    /// What is left of an undo (`change`, an inverse kept since) that still applies to
    /// the board as it is now: objects that others erased since are skipped, pages that
    /// are gone are skipped. `None` when nothing of it applies any more.
    pub fn fit(&self, change: &BoardChange) -> Option<BoardChange> {
        let page_of = |id: &str| self.page(id);
        match change {
            BoardChange::Erase { page, ids } => {
                let p = page_of(page)?;
                let ids: Vec<String> = ids
                    .iter()
                    .filter(|id| p.objects.iter().any(|o| &o.id == *id))
                    .cloned()
                    .collect();
                (!ids.is_empty()).then(|| BoardChange::Erase {
                    page: page.clone(),
                    ids,
                })
            }
            BoardChange::Update { page, object } => page_of(page)?
                .objects
                .iter()
                .any(|o| o.id == object.id)
                .then(|| change.clone()),
            BoardChange::Restore { page, objects } => {
                page_of(page)?;
                let ids = self.object_ids();
                let objects: Vec<Placed> = objects
                    .iter()
                    .filter(|o| !ids.contains(o.object.id.as_str()))
                    .cloned()
                    .collect();
                (!objects.is_empty()).then(|| BoardChange::Restore {
                    page: page.clone(),
                    objects,
                })
            }
            BoardChange::RemovePage { page } | BoardChange::MovePage { page, .. } => {
                page_of(page).map(|_| change.clone())
            }
            BoardChange::Annotates { page, .. } => page_of(page).map(|_| change.clone()),
            BoardChange::RestorePage { index, page } => {
                if self.page(&page.id).is_some() {
                    return None;
                }
                let ids = self.object_ids();
                let mut page = page.clone();
                page.objects.retain(|o| !ids.contains(o.id.as_str()));
                Some(BoardChange::RestorePage {
                    index: *index,
                    page,
                })
            }
            BoardChange::Add { .. }
            | BoardChange::Clear { .. }
            | BoardChange::AddPage { .. }
            | BoardChange::Access { .. } => Some(change.clone()),
        }
    }
}

fn no_object(id: &str) -> BoardError {
    BoardError::new(
        ErrorCode::NotFound,
        format!("no object {:?} on that page", truncated(id)),
    )
}

/// What `joined` says of the board (its objects come with `board_sync`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BoardSummary {
    /// The board's id (see [`Board::id`]); empty when it could not be loaded.
    pub id: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub seq: u64,
    pub access: BoardAccess,
    pub pages: Vec<PageInfo>,
}

/// Requests of the whiteboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoardRequest {
    /// Draw an object on top of `page` (a finished stroke, a shape, a text).
    BoardAdd {
        page: String,
        object: BoardObject,
    },
    /// Change an object (move it, edit its text, restyle it).
    BoardUpdate {
        page: String,
        object: BoardObject,
    },
    /// Erase objects.
    BoardErase {
        page: String,
        ids: Vec<String>,
    },
    /// Erase everything on a page.
    BoardClear {
        page: String,
    },
    /// Add an empty page at `index` (default: the end). With `annotates`, the page is
    /// drawn over that identity's screen share.
    BoardAddPage {
        page: String,
        #[serde(default)]
        index: Option<u32>,
        #[serde(default)]
        annotates: Option<String>,
    },
    BoardRemovePage {
        page: String,
    },
    BoardMovePage {
        page: String,
        index: u32,
    },
    /// Keep an annotation page as a page of the board (after its share ended).
    BoardKeepPage {
        page: String,
    },
    /// Undo your last change that can still be undone.
    BoardUndo,
    /// Redo what your last undo undid.
    BoardRedo,
    /// A stroke or shape being drawn, not stored: `points` of a stroke from index
    /// `from` on (the ones sent before stay); a shape whole.
    BoardLive {
        page: String,
        id: String,
        shape: Shape,
        style: Style,
        #[serde(default)]
        from: u32,
    },
    /// Send me the board: the changes after `since` when the relay still has them and
    /// `board` is still the board's id, else the whole board.
    BoardSync {
        #[serde(default)]
        board: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
        since: Option<u64>,
    },
    /// Who may draw besides hosts. Needs the `host` grant.
    BoardSetAccess {
        access: BoardAccess,
    },
}

impl BoardRequest {
    pub const TYPES: &'static [&'static str] = &[
        "board_add",
        "board_update",
        "board_erase",
        "board_clear",
        "board_add_page",
        "board_remove_page",
        "board_move_page",
        "board_keep_page",
        "board_undo",
        "board_redo",
        "board_live",
        "board_sync",
        "board_set_access",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            BoardRequest::BoardAdd { .. } => "board_add",
            BoardRequest::BoardUpdate { .. } => "board_update",
            BoardRequest::BoardErase { .. } => "board_erase",
            BoardRequest::BoardClear { .. } => "board_clear",
            BoardRequest::BoardAddPage { .. } => "board_add_page",
            BoardRequest::BoardRemovePage { .. } => "board_remove_page",
            BoardRequest::BoardMovePage { .. } => "board_move_page",
            BoardRequest::BoardKeepPage { .. } => "board_keep_page",
            BoardRequest::BoardUndo => "board_undo",
            BoardRequest::BoardRedo => "board_redo",
            BoardRequest::BoardLive { .. } => "board_live",
            BoardRequest::BoardSync { .. } => "board_sync",
            BoardRequest::BoardSetAccess { .. } => "board_set_access",
        }
    }

    /// The change this request asks for, made by `author` (`None` for undo, redo,
    /// live strokes and sync, which the relay handles itself).
    pub fn change(&self, author: &str, pages: usize) -> Option<BoardChange> {
        // The relay names the author; text typed on Windows keeps one kind of line end.
        let authored = |object: &BoardObject| {
            let mut object = BoardObject {
                author: author.to_string(),
                ..object.clone()
            };
            if let Shape::Text { text, .. } = &mut object.shape {
                if text.contains('\r') {
                    *text = text.replace("\r\n", "\n");
                }
            }
            object
        };
        Some(match self {
            BoardRequest::BoardAdd { page, object } => BoardChange::Add {
                page: page.clone(),
                object: authored(object),
            },
            BoardRequest::BoardUpdate { page, object } => BoardChange::Update {
                page: page.clone(),
                object: authored(object),
            },
            BoardRequest::BoardErase { page, ids } => BoardChange::Erase {
                page: page.clone(),
                ids: ids.clone(),
            },
            BoardRequest::BoardClear { page } => BoardChange::Clear { page: page.clone() },
            BoardRequest::BoardAddPage {
                page,
                index,
                annotates,
            } => BoardChange::AddPage {
                page: page.clone(),
                index: index.unwrap_or(pages as u32),
                annotates: annotates.clone(),
            },
            BoardRequest::BoardRemovePage { page } => {
                BoardChange::RemovePage { page: page.clone() }
            }
            BoardRequest::BoardMovePage { page, index } => BoardChange::MovePage {
                page: page.clone(),
                index: *index,
            },
            BoardRequest::BoardKeepPage { page } => BoardChange::Annotates {
                page: page.clone(),
                annotates: None,
            },
            BoardRequest::BoardSetAccess { access } => BoardChange::Access {
                access: access.clone(),
            },
            BoardRequest::BoardUndo
            | BoardRequest::BoardRedo
            | BoardRequest::BoardLive { .. }
            | BoardRequest::BoardSync { .. } => return None,
        })
    }
}

/// Events of the whiteboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoardEvent {
    /// A stored change, to everyone (its maker too), in sequence order.
    BoardOp(BoardOp),
    /// A stroke being drawn by `by` (see [`BoardRequest::BoardLive`]), to everyone else.
    BoardLive {
        by: String,
        page: String,
        id: String,
        shape: Shape,
        style: Style,
        from: u32,
    },
    /// One part of the whole board, in answer to `board_sync`. Part 0 starts the board
    /// afresh; each page's objects come in order, and a page may go on in the next part
    /// (the same `id` again). `last` marks the final part; changes after `seq` follow as
    /// `board_op`.
    BoardSnapshot {
        board: String,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        seq: u64,
        access: BoardAccess,
        part: u32,
        last: bool,
        pages: Vec<Page>,
    },
    /// The answer to `board_sync` when only changes were missing: they came before this
    /// as `board_op`; the board is now at `seq`.
    BoardSynced {
        board: String,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        seq: u64,
    },
}

impl BoardEvent {
    pub const TYPES: &'static [&'static str] =
        &["board_op", "board_live", "board_snapshot", "board_synced"];
}

/// Largest part of a `board_snapshot`, in bytes of objects.
pub const SNAPSHOT_PART_BYTES: usize = 256 * 1024;

/// Split `board` into `board_snapshot` parts of about [`SNAPSHOT_PART_BYTES`] each.
pub fn snapshot_parts(board: &Board) -> Vec<BoardEvent> {
    let mut parts: Vec<Vec<Page>> = vec![vec![]];
    let mut size = 0usize;
    for page in &board.pages {
        let empty = Page {
            id: page.id.clone(),
            annotates: page.annotates.clone(),
            objects: vec![],
        };
        parts.last_mut().expect("a part").push(empty.clone());
        for object in &page.objects {
            let weight = object.weight();
            if size > 0 && size + weight > SNAPSHOT_PART_BYTES {
                parts.push(vec![empty.clone()]);
                size = 0;
            }
            let current = parts.last_mut().expect("a part");
            current
                .last_mut()
                .expect("a page")
                .objects
                .push(object.clone());
            size += weight;
        }
    }
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, pages)| BoardEvent::BoardSnapshot {
            board: board.id.clone(),
            seq: board.seq,
            access: board.access.clone(),
            part: i as u32,
            last: i + 1 == count,
            pages,
        })
        .collect()
}

/// Builds a board from `board_snapshot` parts, as they come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotAssembly {
    board: Option<Board>,
    next_part: u32,
}

impl SnapshotAssembly {
    /// Take one part. Returns the board when `last` came; an error when a part is out of
    /// order (ask again).
    pub fn take(&mut self, event: &BoardEvent) -> Result<Option<Board>, String> {
        let BoardEvent::BoardSnapshot {
            board,
            seq,
            access,
            part,
            last,
            pages,
        } = event
        else {
            return Ok(None);
        };
        if *part == 0 {
            self.board = Some(Board {
                id: board.clone(),
                seq: *seq,
                access: access.clone(),
                pages: vec![],
                bytes: 0,
            });
            self.next_part = 0;
        }
        if *part != self.next_part || self.board.is_none() {
            self.board = None;
            return Err(format!(
                "board snapshot part {part} came where part {} was due",
                self.next_part
            ));
        }
        let assembling = self.board.as_mut().expect("checked");
        for page in pages {
            match assembling.pages.last_mut() {
                Some(last_page) if last_page.id == page.id => {
                    last_page.objects.extend(page.objects.iter().cloned())
                }
                _ => assembling.pages.push(page.clone()),
            }
        }
        self.next_part += 1;
        if *last {
            let mut done = self.board.take().expect("checked");
            done.recount();
            self.next_part = 0;
            return Ok(Some(done));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pen(id: &str, n: usize) -> BoardObject {
        BoardObject {
            id: id.into(),
            author: "a".into(),
            shape: Shape::Pen {
                points: (0..n).map(|i| [i as u16, 10, 50]).collect(),
            },
            style: Style {
                color: "#112233".into(),
                width: 20,
                fill: false,
            },
        }
    }

    fn add(board: &mut Board, id: &str) -> BoardChange {
        board
            .apply(&BoardChange::Add {
                page: FIRST_PAGE.into(),
                object: pen(id, 3),
            })
            .unwrap()
    }

    #[test]
    fn an_inverse_undoes_each_change() {
        let mut board = Board::new("b");
        add(&mut board, "x");
        add(&mut board, "y");
        add(&mut board, "z");
        let start = board.clone();
        let changes = vec![
            BoardChange::Erase {
                page: FIRST_PAGE.into(),
                ids: vec!["y".into(), "x".into()],
            },
            BoardChange::Clear {
                page: FIRST_PAGE.into(),
            },
            BoardChange::AddPage {
                page: "p2".into(),
                index: 0,
                annotates: None,
            },
            BoardChange::MovePage {
                page: FIRST_PAGE.into(),
                index: 0,
            },
            BoardChange::RemovePage {
                page: FIRST_PAGE.into(),
            },
        ];
        let mut undo = vec![];
        for c in &changes {
            undo.push(board.apply(c).unwrap());
        }
        while let Some(inverse) = undo.pop() {
            board.apply(&inverse).unwrap();
        }
        assert_eq!(board, start);
        assert_eq!(board.bytes(), start.bytes());
    }

    #[test]
    fn limits_name_themselves_and_change_nothing() {
        let mut board = Board::new("b");
        let before = board.clone();
        let err = board
            .apply(&BoardChange::Add {
                page: FIRST_PAGE.into(),
                object: pen("long", MAX_POINTS + 1),
            })
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::LimitReached);
        assert!(err.message.starts_with("points_per_stroke"), "{err}");
        let mut off = pen("off", 1);
        off.shape = Shape::Pen {
            points: vec![[PAGE_WIDTH + 1, 0, 0]],
        };
        let err = board
            .apply(&BoardChange::Add {
                page: FIRST_PAGE.into(),
                object: off,
            })
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::OutOfRange);
        for i in 1..MAX_PAGES {
            board
                .apply(&BoardChange::AddPage {
                    page: format!("p{i}"),
                    index: 99,
                    annotates: None,
                })
                .unwrap();
        }
        let full = board.clone();
        let err = board
            .apply(&BoardChange::AddPage {
                page: "one-too-many".into(),
                index: 0,
                annotates: None,
            })
            .unwrap_err();
        assert!(err.message.starts_with("pages_per_board"), "{err}");
        assert_eq!(board, full);
        assert_ne!(board, before);
    }

    #[test]
    fn a_snapshot_in_parts_builds_the_same_board() {
        let mut board = Board::new("b");
        for i in 0..400 {
            board
                .apply(&BoardChange::Add {
                    page: FIRST_PAGE.into(),
                    object: pen(&format!("o{i}"), 200),
                })
                .unwrap();
        }
        board
            .apply(&BoardChange::AddPage {
                page: "empty".into(),
                index: 5,
                annotates: Some("alice".into()),
            })
            .unwrap();
        board.seq = 401;
        let parts = snapshot_parts(&board);
        assert!(parts.len() > 3, "{} parts", parts.len());
        let mut assembly = SnapshotAssembly::default();
        let mut built = None;
        for p in &parts {
            let json = serde_json::to_string(p).unwrap();
            assert!(json.len() < SNAPSHOT_PART_BYTES + 16 * 1024);
            built = assembly
                .take(&serde_json::from_str(&json).unwrap())
                .unwrap();
        }
        assert_eq!(built.unwrap(), board);
        assert!(assembly.take(&parts[1]).is_err(), "a part out of order");
    }
}
