//! What the fuzz targets check (`fuzz/`, run with `cargo fuzz`), kept here so ordinary
//! tests replay the committed corpora with the same code (`tests/tests/fuzz_corpora.rs`).
//! Each function takes any bytes; it panics only when it found a bug.

use std::time::Instant;

use studyhall_protocol::board::{snapshot_parts, SnapshotAssembly, FIRST_PAGE};
use studyhall_protocol::{
    Board, BoardAccess, BoardChange, BoardObject, ClientFrame, Page, PublishedTrack, Shape, Style,
    TrackSource,
};

/// What a fuzz target checks, given the fuzzer's bytes.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name (the directory names under `fuzz/corpus/`).
pub const TARGETS: &[(&str, Check)] = &[
    ("client_frame", client_frame),
    ("board_ops", board_ops),
    ("invite", invite),
    ("sdp_offer", sdp_offer),
    ("file_name", file_name),
];

/// Any text frame a client may send: the relay's decoder answers with a frame or an
/// error, never a panic; a frame it accepts survives a round trip.
pub fn client_frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(frame) = studyhall_relay::signal::decode(text) else {
        return;
    };
    let again = serde_json::to_string(&frame).expect("a decoded frame serializes");
    let back: ClientFrame = studyhall_relay::signal::decode(&again)
        .unwrap_or_else(|e| panic!("a decoded frame does not decode again: {again}: {e:?}"));
    assert_eq!(back, frame, "round trip of {text:?}");
}

/// Bytes read as numbers, zero once they run out.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// A coordinate: mostly on the page, now and then anything.
    fn coord(&mut self, max: u16) -> u16 {
        let v = self.u16();
        if self.byte() % 16 == 0 {
            v
        } else {
            v % (max + 1)
        }
    }

    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.byte() as usize % from.len()]
    }
}

const PAGES: &[&str] = &[FIRST_PAGE, "p2", "p3", "ann", "bad page", ""];
const OBJECTS: &[&str] = &["o0", "o1", "o2", "o3", "o4", "o5", "x y", ""];
const COLORS: &[&str] = &["#112233", "#ABCDEF", "red", "#12345", "#gg0000"];
const PEOPLE: &[&str] = &["ada", "bob", "a b", " lead", "ok\u{7}"];

fn object(c: &mut Cursor) -> BoardObject {
    let id = c.pick(OBJECTS).to_string();
    let point = |c: &mut Cursor| [c.coord(16_000), c.coord(9_000)];
    let shape = match c.byte() % 7 {
        k @ (0 | 1) => {
            let n = c.byte() as usize % 6;
            let points = (0..n)
                .map(|_| [c.coord(16_000), c.coord(9_000), c.byte() as u16 % 120])
                .collect();
            if k == 0 {
                Shape::Pen { points }
            } else {
                Shape::Highlighter { points }
            }
        }
        2 => Shape::Line {
            from: point(c),
            to: point(c),
        },
        3 => Shape::Arrow {
            from: point(c),
            to: point(c),
        },
        4 => Shape::Rect {
            from: point(c),
            to: point(c),
        },
        5 => Shape::Ellipse {
            from: point(c),
            to: point(c),
        },
        _ => Shape::Text {
            at: point(c),
            text: c
                .pick(&["x²", "", "  ", "two\nlines", "tab\there", "bell\u{7}"])
                .into(),
            size: c.u16() % 4_000,
        },
    };
    BoardObject {
        id,
        author: c.pick(PEOPLE).into(),
        shape,
        style: Style {
            color: c.pick(COLORS).into(),
            width: c.u16() % 1_200,
            fill: c.byte() % 2 == 0,
        },
    }
}

fn change(c: &mut Cursor) -> BoardChange {
    let page = c.pick(PAGES).to_string();
    match c.byte() % 11 {
        0 => BoardChange::Add {
            page,
            object: object(c),
        },
        1 => BoardChange::Update {
            page,
            object: object(c),
        },
        2 => BoardChange::Erase {
            page,
            ids: (0..c.byte() % 4).map(|_| c.pick(OBJECTS).into()).collect(),
        },
        3 => BoardChange::Clear { page },
        4 => BoardChange::Restore {
            page,
            objects: (0..c.byte() % 4)
                .map(|_| studyhall_protocol::board::Placed {
                    index: u32::from(c.byte() % 8),
                    object: object(c),
                })
                .collect(),
        },
        5 => BoardChange::AddPage {
            page,
            index: u32::from(c.byte()),
            annotates: (c.byte() % 3 == 0).then(|| c.pick(PEOPLE).into()),
        },
        6 => BoardChange::RemovePage { page },
        7 => BoardChange::RestorePage {
            index: u32::from(c.byte() % 8),
            page: Page {
                id: page,
                annotates: (c.byte() % 3 == 0).then(|| c.pick(PEOPLE).into()),
                objects: (0..c.byte() % 3).map(|_| object(c)).collect(),
            },
        },
        8 => BoardChange::MovePage {
            page,
            index: u32::from(c.byte() % 8),
        },
        9 => BoardChange::Annotates {
            page,
            annotates: (c.byte() % 2 == 0).then(|| c.pick(PEOPLE).into()),
        },
        _ => BoardChange::Access {
            access: BoardAccess {
                everyone: c.byte() % 2 == 0,
                drawers: (0..c.byte() % 3).map(|_| c.pick(PEOPLE).into()).collect(),
            },
        },
    }
}

/// Any sequence of whiteboard changes: a refused change leaves the board as it was; an
/// applied one is undone exactly by the change `apply` returned, and an undo fitted
/// later still applies; the board's size stays counted right; the board survives JSON
/// and being sent in snapshot parts.
pub fn board_ops(data: &[u8]) {
    let mut c = Cursor(data);
    let mut board = Board::new("fuzz");
    let mut undo: Vec<BoardChange> = vec![];
    while !c.0.is_empty() {
        let before = board.clone();
        let next = if c.byte() % 5 == 0 {
            // An undo, fitted to the board as it is now, as the relay does.
            match undo.pop().and_then(|u| board.fit(&u)) {
                Some(fitted) => fitted,
                None => continue,
            }
        } else {
            change(&mut c)
        };
        match board.apply(&next) {
            Err(_) => assert_eq!(board, before, "a refused {next:?} changed the board"),
            Ok(inverse) => {
                board.seq += 1;
                let mut counted = board.clone();
                counted.recount();
                assert_eq!(counted.bytes(), board.bytes(), "size after {next:?}");
                let nothing =
                    matches!(&inverse, BoardChange::Restore { objects, .. } if objects.is_empty());
                if !nothing {
                    let mut back = board.clone();
                    back.apply(&inverse)
                        .unwrap_or_else(|e| panic!("the inverse of {next:?} fails: {e}"));
                    back.seq = before.seq;
                    assert_eq!(back, before, "{next:?} then its inverse {inverse:?}");
                    undo.push(inverse);
                }
            }
        }
    }
    let json = serde_json::to_string(&board).expect("a board serializes");
    let mut read: Board = serde_json::from_str(&json).expect("a board reads back");
    read.recount();
    assert_eq!(read, board);
    let mut assembly = SnapshotAssembly::default();
    let mut built = None;
    for part in snapshot_parts(&board) {
        built = assembly.take(&part).expect("parts in order");
    }
    assert_eq!(built.as_ref(), Some(&board), "the board sent in parts");
}

/// Any text pasted as an invite, to a room or to a group: an error or a target, never a
/// panic; a target's link and short form read back as the same target.
pub fn invite(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(group) = studyhall_client::groups::GroupInvite::parse(text) {
        use studyhall_client::groups::GroupInvite;
        assert_eq!(
            GroupInvite::parse(&group.link()).as_ref().ok(),
            Some(&group),
            "the group link of {text:?}"
        );
        assert_eq!(
            GroupInvite::parse(&group.short()).as_ref().ok(),
            Some(&group),
            "the group short form of {text:?}"
        );
    }
    let Ok(target) = studyhall_client::invite::parse(text) else {
        return;
    };
    assert_eq!(
        studyhall_client::invite::parse(&target.link()).as_ref(),
        Ok(&target),
        "the link of {text:?}"
    );
    assert_eq!(
        studyhall_client::invite::parse(&target.short()).as_ref(),
        Ok(&target),
        "the short form of {text:?}"
    );
}

/// Any SDP a client may offer to publish: the SFU answers or refuses, never panics,
/// and the relay keeps serving (the next, valid, offer of another member works).
pub fn sdp_offer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Instant::now();
    let mut sfu = studyhall_relay::sfu::Sfu::new("10.0.0.1:7451".parse().expect("an address"));
    sfu.join(now, "r", "ada", 1, true);
    let tracks = [PublishedTrack {
        mid: "0".into(),
        source: TrackSource::Camera,
        layer: Default::default(),
    }];
    let _ = sfu.publish(now, "r", "ada", 1, text, &tracks);
    let _ = sfu.publish(now, "r", "ada", 1, text, &[]);
}

/// Any name given to an upload: refused with a reason, or taken as one path component
/// without control or bidirectional characters, within the size limit, taken again as
/// it is, and carried intact by the download's `Content-Disposition` header (a valid
/// header whose `filename*` decodes to the name, and whose `filename` is plain ASCII).
pub fn file_name(data: &[u8]) {
    use studyhall_protocol::materials::{check_file_name, MAX_NAME_BYTES};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = check_file_name(text) else {
        return;
    };
    assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES, "{name:?}");
    assert!(
        name != "." && name != ".." && !name.contains(['/', '\\']),
        "{name:?}"
    );
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert_eq!(check_file_name(name), Ok(name), "taken again as it is");
    let header = studyhall_relay::http::disposition(name);
    assert!(
        axum::http::HeaderValue::from_str(&header).is_ok(),
        "{header:?} is not a header value"
    );
    let (plain, encoded) = header
        .strip_prefix("attachment; filename=\"")
        .and_then(|rest| rest.split_once("\"; filename*=UTF-8''"))
        .unwrap_or_else(|| panic!("{header:?}"));
    assert!(
        plain
            .chars()
            .all(|c| c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\')),
        "{plain:?}"
    );
    let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8();
    assert_eq!(decoded.as_deref().ok(), Some(name), "{header:?}");
}
