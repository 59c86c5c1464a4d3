//! The whiteboard from a participant's side: typed calls to draw, the board as this
//! client knows it (kept in step with the relay's changes, fetched on join and after a
//! gap), and an SVG rendering for a person or a test to look at.

use std::fmt::Write as _;

use studyhall_protocol::board::{SnapshotAssembly, PAGE_HEIGHT, PAGE_WIDTH};
use studyhall_protocol::{
    Board, BoardAccess, BoardEvent, BoardObject, BoardOp, BoardRequest, BoardSummary,
    ClientMessage, Shape,
};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Send a whiteboard request and wait for the relay's answer.
    pub async fn board(&self, request: BoardRequest) -> Result<(), SessionError> {
        self.acked(request.into()).await
    }

    /// Draw `object` on top of `page`.
    pub async fn board_add(&self, page: &str, object: BoardObject) -> Result<(), SessionError> {
        self.board(BoardRequest::BoardAdd {
            page: page.into(),
            object,
        })
        .await
    }
}

/// The room's board as this client knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomBoard {
    /// What `joined` said (pages and counts, no objects).
    pub summary: BoardSummary,
    /// The whole board, once a sync brought it.
    pub board: Option<Board>,
    assembly: SnapshotAssembly,
    /// Changes that came before the board did, applied when it comes.
    pending: Vec<BoardOp>,
    /// A change went missing (or a part came out of order): sync again.
    pub needs_sync: bool,
}

impl RoomBoard {
    pub fn new(summary: &BoardSummary) -> Self {
        RoomBoard {
            summary: summary.clone(),
            ..Default::default()
        }
    }

    /// After a rejoin: keep the board held (a sync then brings only what was missed).
    pub fn rejoined(self, summary: &BoardSummary) -> Self {
        RoomBoard {
            summary: summary.clone(),
            board: self.board,
            ..Default::default()
        }
    }

    /// The request that brings this client's board up to date.
    pub fn sync_request(&self) -> ClientMessage {
        BoardRequest::BoardSync {
            board: self.board.as_ref().map(|b| b.id.clone()),
            since: self.board.as_ref().map(|b| b.seq),
        }
        .into()
    }

    /// Who may draw, as last known.
    pub fn access(&self) -> &BoardAccess {
        self.board
            .as_ref()
            .map_or(&self.summary.access, |b| &b.access)
    }

    /// Apply an event; true when the board changed.
    pub fn apply(&mut self, event: &BoardEvent) -> bool {
        match event {
            BoardEvent::BoardOp(op) => self.take_op(op),
            BoardEvent::BoardSnapshot { .. } => match self.assembly.take(event) {
                Ok(Some(mut board)) => {
                    for op in std::mem::take(&mut self.pending) {
                        if op.seq > board.seq && board.apply_op(&op).is_err() {
                            self.needs_sync = true;
                            break;
                        }
                    }
                    self.board = Some(board);
                    true
                }
                Ok(None) => false,
                Err(_) => {
                    self.needs_sync = true;
                    false
                }
            },
            BoardEvent::BoardSynced { .. } | BoardEvent::BoardLive { .. } => false,
        }
    }

    fn take_op(&mut self, op: &BoardOp) -> bool {
        let Some(board) = self.board.as_mut() else {
            self.pending.push(op.clone());
            return false;
        };
        if op.seq <= board.seq {
            return false;
        }
        if board.apply_op(op).is_err() {
            // A gap (or a change this board cannot take): fetch what is missing.
            self.needs_sync = true;
            return false;
        }
        true
    }
}

/// One line for a person reading the command line's output.
pub fn describe(event: &BoardEvent) -> String {
    match event {
        BoardEvent::BoardOp(op) => format!(
            "board: #{} {} by {}",
            op.seq,
            op.change.op().replace('_', " "),
            op.by
        ),
        BoardEvent::BoardLive { by, id, .. } => format!("board: {by} is drawing {id}"),
        BoardEvent::BoardSnapshot {
            seq, part, last, ..
        } => format!(
            "board: snapshot part {part}{} at #{seq}",
            if *last { " (last)" } else { "" }
        ),
        BoardEvent::BoardSynced { seq, .. } => format!("board: up to date at #{seq}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The board's pages (not annotation pages) as one SVG, one page under the other.
pub fn to_svg(board: &Board) -> String {
    let pages: Vec<_> = board
        .pages
        .iter()
        .filter(|p| p.annotates.is_none())
        .collect();
    let gap = 200u32;
    let height = pages.len().max(1) as u32 * (u32::from(PAGE_HEIGHT) + gap);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {PAGE_WIDTH} {height}\" \
         data-board=\"{}\" data-seq=\"{}\">\n",
        escape(&board.id),
        board.seq
    );
    for (i, page) in pages.iter().enumerate() {
        let top = i as u32 * (u32::from(PAGE_HEIGHT) + gap);
        let _ = writeln!(
            svg,
            "<g id=\"{}\" transform=\"translate(0 {top})\">\n<rect width=\"{PAGE_WIDTH}\" height=\"{PAGE_HEIGHT}\" fill=\"#ffffff\" stroke=\"#cccccc\"/>",
            escape(&page.id)
        );
        for object in &page.objects {
            svg.push_str(&object_svg(object));
            svg.push('\n');
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

fn object_svg(o: &BoardObject) -> String {
    let color = escape(&o.style.color);
    let width = o.style.width;
    let id = escape(&o.id);
    let stroke = format!(
        "fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" stroke-linecap=\"round\" stroke-linejoin=\"round\""
    );
    let fill = if o.style.fill {
        format!("fill=\"{color}\"")
    } else {
        "fill=\"none\"".into()
    };
    match &o.shape {
        Shape::Pen { points } | Shape::Highlighter { points } => {
            let pts: Vec<String> = points.iter().map(|p| format!("{},{}", p[0], p[1])).collect();
            let opacity = if matches!(o.shape, Shape::Highlighter { .. }) {
                " stroke-opacity=\"0.35\""
            } else {
                ""
            };
            format!(
                "<polyline id=\"{id}\" points=\"{}\" {stroke}{opacity}/>",
                pts.join(" ")
            )
        }
        Shape::Line { from, to } => format!(
            "<line id=\"{id}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {stroke}/>",
            from[0], from[1], to[0], to[1]
        ),
        Shape::Arrow { from, to } => {
            let (dx, dy) = (
                f64::from(to[0]) - f64::from(from[0]),
                f64::from(to[1]) - f64::from(from[1]),
            );
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let head = (f64::from(width) * 4.0).max(120.0).min(len / 2.0);
            let (ux, uy) = (dx / len, dy / len);
            let (bx, by) = (f64::from(to[0]) - ux * head, f64::from(to[1]) - uy * head);
            let (px, py) = (-uy * head * 0.5, ux * head * 0.5);
            format!(
                "<g id=\"{id}\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {stroke}/>\
                 <polyline points=\"{:.0},{:.0} {},{} {:.0},{:.0}\" {stroke}/></g>",
                from[0],
                from[1],
                to[0],
                to[1],
                bx + px,
                by + py,
                to[0],
                to[1],
                bx - px,
                by - py
            )
        }
        Shape::Rect { from, to } => format!(
            "<rect id=\"{id}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" stroke=\"{color}\" stroke-width=\"{width}\" {fill}/>",
            from[0].min(to[0]),
            from[1].min(to[1]),
            from[0].abs_diff(to[0]),
            from[1].abs_diff(to[1])
        ),
        Shape::Ellipse { from, to } => format!(
            "<ellipse id=\"{id}\" cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" stroke=\"{color}\" stroke-width=\"{width}\" {fill}/>",
            (u32::from(from[0]) + u32::from(to[0])) / 2,
            (u32::from(from[1]) + u32::from(to[1])) / 2,
            from[0].abs_diff(to[0]) / 2,
            from[1].abs_diff(to[1]) / 2
        ),
        Shape::Text { at, text, size } => {
            let mut out = format!(
                "<text id=\"{id}\" x=\"{}\" y=\"{}\" font-size=\"{size}\" fill=\"{color}\" font-family=\"sans-serif\">",
                at[0], at[1]
            );
            for (i, line) in text.split('\n').enumerate() {
                let _ = write!(
                    out,
                    "<tspan x=\"{}\" dy=\"{}\">{}</tspan>",
                    at[0],
                    if i == 0 { *size } else { *size * 6 / 5 },
                    escape(line)
                );
            }
            out.push_str("</text>");
            out
        }
    }
}

/// What the command line does with the board.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BoardArgs {
    /// Draw this many strokes on the whiteboard once joined (a test pattern of waves;
    /// needs drawing rights: a host, or a host opened the board).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub board_draw: u32,
    /// Write the whiteboard here when leaving: `.svg` as a picture, anything else as
    /// the board's JSON.
    #[arg(long, value_name = "PATH")]
    pub board_dump: Option<std::path::PathBuf>,
}

impl BoardArgs {
    /// Whether the board is wanted at all (a sync is sent on join).
    pub fn wanted(&self) -> bool {
        self.board_draw > 0 || self.board_dump.is_some()
    }

    /// The strokes to draw: `n` waves across the first page, ids `<prefix>-<i>`.
    pub fn strokes(&self, prefix: &str) -> Vec<BoardObject> {
        (0..self.board_draw)
            .map(|i| wave(&format!("{prefix}-{i}"), i))
            .collect()
    }
}

/// A wavy stroke, the `i`th of a test pattern (rows down the page).
pub fn wave(id: &str, i: u32) -> BoardObject {
    let row = 400 + (i % 20) * 420;
    BoardObject {
        id: id.into(),
        author: String::new(),
        shape: Shape::Pen {
            points: (0..60u32)
                .map(|k| {
                    let x = 500 + k * 250;
                    let y = f64::from(row) + 150.0 * (f64::from(k) / 4.0 + f64::from(i)).sin();
                    [x as u16, y as u16, 50]
                })
                .collect(),
        },
        style: studyhall_protocol::Style {
            color: ["#1d4ed8", "#dc2626", "#15803d", "#7c3aed"][i as usize % 4].into(),
            width: 40,
            fill: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::board::{snapshot_parts, FIRST_PAGE};
    use studyhall_protocol::BoardChange;

    fn op(seq: u64, id: &str) -> BoardOp {
        BoardOp {
            seq,
            by: "h".into(),
            at: 0,
            change: BoardChange::Add {
                page: FIRST_PAGE.into(),
                object: wave(id, seq as u32),
            },
        }
    }

    #[test]
    fn changes_before_the_snapshot_wait_for_it_and_a_gap_asks_for_a_sync() {
        let mut relay = Board::new("b");
        for seq in 1..=3 {
            relay.apply_op(&op(seq, &format!("o{seq}"))).unwrap();
        }
        let parts = snapshot_parts(&relay);
        let mut mine = RoomBoard::default();
        // Ops 3 and 4 arrive before the snapshot (at 3) does.
        assert!(!mine.apply(&BoardEvent::BoardOp(op(3, "o3"))));
        assert!(!mine.apply(&BoardEvent::BoardOp(op(4, "o4"))));
        for p in &parts {
            mine.apply(p);
        }
        relay.apply_op(&op(4, "o4")).unwrap();
        assert_eq!(mine.board.as_ref(), Some(&relay));
        assert!(!mine.needs_sync);
        // Op 6 without op 5: a gap.
        assert!(!mine.apply(&BoardEvent::BoardOp(op(6, "o6"))));
        assert!(mine.needs_sync);
        let ClientMessage::Feature(studyhall_protocol::FeatureRequest::Board(
            BoardRequest::BoardSync { board, since },
        )) = mine.sync_request()
        else {
            panic!("not a sync");
        };
        assert_eq!((board.as_deref(), since), (Some("b"), Some(4)));
    }

    #[test]
    fn the_svg_has_every_object_and_escapes_text() {
        let mut board = Board::new("b");
        board.apply_op(&op(1, "w1")).unwrap();
        let text = BoardObject {
            id: "t1".into(),
            author: "a".into(),
            shape: Shape::Text {
                at: [100, 100],
                text: "x < y & \"z\"\nline two".into(),
                size: 400,
            },
            style: studyhall_protocol::Style {
                color: "#000000".into(),
                width: 10,
                fill: false,
            },
        };
        board
            .apply_op(&BoardOp {
                seq: 2,
                by: "a".into(),
                at: 0,
                change: BoardChange::Add {
                    page: FIRST_PAGE.into(),
                    object: text,
                },
            })
            .unwrap();
        let svg = to_svg(&board);
        assert!(svg.contains("<polyline id=\"w1\""));
        assert!(svg.contains("x &lt; y &amp; &quot;z&quot;"));
        assert!(svg.contains(">line two</tspan>"));
        assert!(svg.contains("data-seq=\"2\""));
    }
}
