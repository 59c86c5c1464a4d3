//! Materials over real HTTP and WebSockets on loopback, with real files: a host shares
//! a PDF, everyone sees it (and its chat attachment), a late joiner and a restarted
//! relay still have it, downloads resume and match their checksum, and a corpus of
//! hostile names and requests each gets its documented answer while nothing escapes
//! the storage directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use studyhall_client::features::materials::{Materials, MaterialsError};
use studyhall_client::signal::SignalClient;
use studyhall_protocol::{
    ClientFrame, ClientMessage, ErrorCode, FeatureEvent, Material, MaterialEvent, MaterialRequest,
    ServerMessage,
};
use studyhall_tests::{expect, TestRelay, WAIT};

/// A small but real PDF.
fn pdf(body: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% {body}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Send a request with an id; Ok when acknowledged (or answered by an event carrying
/// the id), the error's code when refused.
async fn acked(client: &mut SignalClient, request: ClientMessage) -> Result<(), ErrorCode> {
    let id = format!("r{}", rand::random::<u32>());
    client
        .send_frame(&ClientFrame::with_request_id(request, &id))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, client.recv())
            .await
            .expect("an answer in time")
            .expect("the socket stays open");
        match msg {
            ServerMessage::Ack { request_id } if request_id == id => return Ok(()),
            ServerMessage::Feature(FeatureEvent::Materials(MaterialEvent::MaterialAdded {
                request_id: Some(r),
                ..
            })) if r == id => return Ok(()),
            ServerMessage::Error {
                code,
                request_id: Some(r),
                ..
            } if r == id => return Err(code),
            _ => {}
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_shared_pdf_reaches_everyone_a_late_joiner_and_a_restarted_relay() {
    let relay = TestRelay::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let room = "lecture";
    let (mut host, _) = relay.join_host(room, "host").await;
    let (mut ada, _) = relay.join(room, "ada").await;
    let bytes = pdf("week one slides");
    let file = write(scratch.path(), "Week 1 — slides.pdf", &bytes);

    let host_files = Materials::new(&relay.url(), room, &relay.host_token(room, "host")).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let log = seen.clone();
    let material = host_files
        .upload(
            &file,
            None,
            Some(std::sync::Arc::new(move |done, all| {
                log.lock().unwrap().push((done, all))
            })),
        )
        .await
        .unwrap();
    assert_eq!(material.name, "Week 1 — slides.pdf");
    assert_eq!(material.mime, "application/pdf");
    assert_eq!(material.size, bytes.len() as u64);
    assert_eq!(material.by, "host");
    let progress = seen.lock().unwrap().clone();
    assert_eq!(
        progress.last(),
        Some(&(bytes.len() as u64, bytes.len() as u64))
    );

    acked(
        &mut host,
        MaterialRequest::MaterialShare {
            id: material.id.clone(),
        }
        .into(),
    )
    .await
    .unwrap();
    let chat = expect(
        &mut ada,
        "the attachment in chat",
        |m| matches!(m, ServerMessage::ChatMessage { message } if message.attachment.is_some()),
    )
    .await;
    let ServerMessage::ChatMessage { message } = chat else {
        unreachable!()
    };
    assert_eq!(message.attachment.unwrap().id, material.id);
    expect(&mut ada, "material_added", |m| {
        matches!(m, ServerMessage::Feature(FeatureEvent::Materials(MaterialEvent::MaterialAdded { material: got, .. })) if got == &material)
    })
    .await;

    // Ada downloads it, and the checksum matches.
    let ada_files = Materials::new(&relay.url(), room, &relay.token(room, "ada")).unwrap();
    let to = scratch.path().join("ada.pdf");
    let done = ada_files.download(&material, &to, None).await.unwrap();
    assert_eq!(done.resumed_from, 0);
    assert_eq!(std::fs::read(&to).unwrap(), bytes);

    // A late joiner sees it in `joined`, and in chat history.
    let (_bob, info) = relay.join(room, "bob").await;
    assert_eq!(info.features.materials.items, vec![material.clone()]);
    assert_eq!(info.features.materials.used_bytes, bytes.len() as u64);
    assert!(info
        .chat
        .messages
        .iter()
        .any(|m| m.attachment.as_ref().is_some_and(|a| a.id == material.id)));

    // A later session of the room, after a restart, still has it.
    drop((host, ada));
    let relay = relay.restart().await;
    let (_cyd, info) = relay.join(room, "cyd").await;
    assert_eq!(info.features.materials.items, vec![material.clone()]);
    let cyd_files = Materials::new(&relay.url(), room, &relay.token(room, "cyd")).unwrap();
    let again = scratch.path().join("cyd.pdf");
    cyd_files.download(&material, &again, None).await.unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
}

#[tokio::test]
async fn a_download_resumes_where_it_stopped_and_a_bad_part_is_caught() {
    let relay = TestRelay::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let room = "resume";
    let mut bytes = pdf("big");
    bytes.extend((0..300_000u32).map(|i| (i % 251) as u8));
    let file = write(scratch.path(), "big.pdf", &bytes);
    let host = Materials::new(&relay.url(), room, &relay.host_token(room, "host")).unwrap();
    let material = host.upload(&file, None, None).await.unwrap();

    // An interrupted download left the first 100 000 bytes.
    let to = scratch.path().join("big-copy.pdf");
    let part = studyhall_client::features::materials::part_path(&to);
    std::fs::write(&part, &bytes[..100_000]).unwrap();
    let done = host.download(&material, &to, None).await.unwrap();
    assert_eq!(done.resumed_from, 100_000);
    assert_eq!(std::fs::read(&to).unwrap(), bytes);
    assert!(!part.exists());

    // A part that does not belong to this file fails the checksum and is removed.
    let mut wrong = bytes[..100_000].to_vec();
    wrong[5] ^= 0xff;
    let to = scratch.path().join("big-bad.pdf");
    let part = studyhall_client::features::materials::part_path(&to);
    std::fs::write(&part, &wrong).unwrap();
    let err = host.download(&material, &to, None).await.unwrap_err();
    assert!(matches!(err, MaterialsError::Checksum { .. }), "{err}");
    assert!(!part.exists() && !to.exists());
    // Downloaded again from nothing, it is whole.
    host.download(&material, &to, None).await.unwrap();
    assert_eq!(std::fs::read(&to).unwrap(), bytes);
}

#[tokio::test]
async fn a_cancelled_upload_leaves_nothing_and_slots_and_quota_hold() {
    let relay = TestRelay::start_with(|c| {
        c.max_upload_bytes = 200_000;
        c.room_materials_quota_bytes = 300_000;
        c.uploads_at_once = 1;
    })
    .await;
    let room = "limits";
    let token = relay.host_token(room, "host");
    let url = relay.http(&format!("/v1/rooms/{room}/materials?name=slow.txt"));
    let http = reqwest::Client::new();

    // An upload that sends a little, then stalls: it holds the only slot.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tx.send(Ok(b"the first line\n".to_vec())).await.unwrap();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let slow = tokio::spawn(
        http.post(&url)
            .bearer_auth(&token)
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    let partial = relay.data_dir().join("materials/.partial");
    let deadline = tokio::time::Instant::now() + WAIT;
    while files_under(&partial).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the upload started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = http
        .post(relay.http(&format!("/v1/rooms/{room}/materials?name=b.txt")))
        .bearer_auth(&token)
        .body("second")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_uploads");

    // Cancelled: the client goes away mid-file.
    slow.abort();
    drop(tx);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !files_under(&partial).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cancelled upload's partial file was removed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let files = Materials::new(&relay.url(), room, &token).unwrap();
    assert!(files.list().await.unwrap().items.is_empty());

    // The slot is free again; the quota holds across files.
    let scratch = tempfile::tempdir().unwrap();
    let a = write(scratch.path(), "a.txt", &vec![b'a'; 150_000]);
    files.upload(&a, None, None).await.unwrap();
    files.upload(&a, None, None).await.unwrap();
    let err = files.upload(&a, None, None).await.unwrap_err();
    assert!(
        matches!(&err, MaterialsError::Refused { status: 413, code, .. } if code == "room_quota"),
        "{err:?}"
    );
    let big = write(scratch.path(), "big.txt", &vec![b'b'; 200_001]);
    let err = files.upload(&big, None, None).await.unwrap_err();
    assert!(
        matches!(&err, MaterialsError::Refused { status: 413, code, .. } if code == "file_too_large"),
        "{err:?}"
    );
    assert_eq!(files.list().await.unwrap().used_bytes, 300_000);
}

/// One hostile request and the answer the docs promise for it.
struct Case {
    what: &'static str,
    method: &'static str,
    /// Path after the host, or a full path when it starts with `/`.
    path: String,
    token: Option<String>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: Option<&'static str>,
}

#[tokio::test]
async fn hostile_names_and_requests_get_their_documented_answers() {
    let relay = TestRelay::start_with(|c| {
        c.max_upload_bytes = 100_000;
        c.room_materials_quota_bytes = 150_000;
    })
    .await;
    let room = "corpus";
    let host = relay.host_token(room, "host");
    let member = relay.token(room, "ada");
    let other_room = relay.host_token("elsewhere", "host");
    let pdf_bytes = pdf("corpus");
    let files = Materials::new(&relay.url(), room, &host).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let good = files
        .upload(&write(scratch.path(), "good.pdf", &pdf_bytes), None, None)
        .await
        .unwrap();
    let len = pdf_bytes.len();
    let up = |name: &str| format!("/v1/rooms/{room}/materials?name={name}");
    let down = |id: &str| format!("/v1/rooms/{room}/materials/{id}");
    let text = b"plain notes\n".to_vec();
    let post = |what, path: String, body: Vec<u8>, status, code| Case {
        what,
        method: "POST",
        path,
        token: Some(host.clone()),
        body,
        headers: vec![],
        status,
        code,
    };
    let get = |what, path: String, headers: Vec<(&'static str, String)>, status, code| Case {
        what,
        method: "GET",
        path,
        token: Some(member.clone()),
        body: vec![],
        headers,
        status,
        code,
    };
    let long = "a".repeat(10_000);
    let mut cases = vec![
        // Names: paths, controls, look-alikes, direction overrides, length.
        post(
            "dot-dot path",
            up("..%2F..%2Fetc%2Fpasswd"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "dot-dot alone",
            up(".."),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "dot alone",
            up("."),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "absolute path",
            up("%2Fetc%2Fshadow"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "windows path",
            up("C%3A%5CWindows%5Cwin.ini"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "backslash dot-dot",
            up("..%5C..%5Cboot.ini"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "NUL in name",
            up("a%00.txt"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "newline in name",
            up("a%0D%0AX-Evil%3A%201.txt"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "escape in name",
            up("a%1B%5B31m.txt"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "DEL in name",
            up("a%7F.txt"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "right-to-left override",
            up("invoice%E2%80%AEfdp.exe"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "left-to-right isolate",
            up("x%E2%81%A6.pdf"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "name of 10 000 bytes",
            up(&long),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "empty name",
            up(""),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "only spaces",
            up("%20%20%20"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "no name",
            format!("/v1/rooms/{room}/materials"),
            text.clone(),
            400,
            Some("invalid_name"),
        ),
        post(
            "Cyrillic look-alike kept",
            up("%D1%80aypal.txt"),
            text.clone(),
            201,
            None,
        ),
        post(
            "full-width look-alike kept",
            up("%EF%BD%90df.txt"),
            text.clone(),
            201,
            None,
        ),
        post(
            "zero-width space kept",
            up("a%E2%80%8Bb.txt"),
            text.clone(),
            201,
            None,
        ),
        // Content that lies about itself, or is not allowed.
        post(
            "HTML named .pdf",
            up("slides.pdf"),
            b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
            415,
            Some("unsupported_type"),
        ),
        post(
            "SVG named .png",
            up("pic.png"),
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(),
            415,
            Some("unsupported_type"),
        ),
        post(
            "XML named .txt",
            up("a.txt"),
            b"<?xml version='1.0'?><x/>".to_vec(),
            415,
            Some("unsupported_type"),
        ),
        post(
            "ELF named .pdf",
            up("notes.pdf"),
            [&[0x7f, b'E', b'L', b'F', 2, 1, 1][..], &[0u8; 57][..]].concat(),
            415,
            Some("unsupported_type"),
        ),
        post(
            "shell script named .md",
            up("readme.md"),
            b"#!/bin/sh\nrm -rf /\n".to_vec(),
            415,
            Some("unsupported_type"),
        ),
        post(
            "binary junk named .txt",
            up("a.txt"),
            vec![0, 159, 146, 150, 0, 1, 2],
            415,
            Some("unsupported_type"),
        ),
        post(
            "empty file",
            up("empty.txt"),
            vec![],
            400,
            Some("empty_file"),
        ),
        post(
            "oversize file",
            up("huge.txt"),
            vec![b'x'; 100_001],
            413,
            Some("file_too_large"),
        ),
        // Tokens.
        Case {
            token: None,
            ..post(
                "no token",
                up("a.txt"),
                text.clone(),
                401,
                Some("token_missing"),
            )
        },
        Case {
            token: Some("not.a.token".into()),
            ..post(
                "garbage token",
                up("a.txt"),
                text.clone(),
                401,
                Some("token_invalid"),
            )
        },
        Case {
            token: Some(other_room.clone()),
            ..post(
                "upload with another room's token",
                up("a.txt"),
                text.clone(),
                403,
                Some("token_wrong_room"),
            )
        },
        Case {
            token: Some(member.clone()),
            ..post(
                "a member may not upload",
                up("a.txt"),
                text.clone(),
                403,
                Some("forbidden"),
            )
        },
        Case {
            token: Some(other_room.clone()),
            ..get(
                "download with another room's token",
                down(&good.id),
                vec![],
                403,
                Some("token_wrong_room"),
            )
        },
        Case {
            token: None,
            ..get(
                "download without a token",
                down(&good.id),
                vec![],
                401,
                Some("token_missing"),
            )
        },
        // Ids.
        get(
            "id that is a path",
            format!("/v1/rooms/{room}/materials/..%2F..%2Fmaterials.sqlite3"),
            vec![],
            404,
            Some("not_found"),
        ),
        get(
            "upper-case id",
            down(&good.id.to_uppercase()),
            vec![],
            404,
            Some("not_found"),
        ),
        get(
            "unknown id",
            down(&"0".repeat(32)),
            vec![],
            404,
            Some("not_found"),
        ),
        get(
            "id of the partial directory",
            down(".partial"),
            vec![],
            404,
            Some("not_found"),
        ),
        // Ranges.
        get(
            "range out of bounds",
            down(&good.id),
            vec![("range", format!("bytes={}-", len + 10))],
            416,
            Some("range_not_satisfiable"),
        ),
        get(
            "suffix range of 0",
            down(&good.id),
            vec![("range", "bytes=-0".into())],
            416,
            Some("range_not_satisfiable"),
        ),
        get(
            "first bytes",
            down(&good.id),
            vec![("range", "bytes=0-3".into())],
            206,
            None,
        ),
        get(
            "last bytes",
            down(&good.id),
            vec![("range", "bytes=-6".into())],
            206,
            None,
        ),
        get(
            "range past the end is cut",
            down(&good.id),
            vec![("range", format!("bytes=4-{}", len * 10))],
            206,
            None,
        ),
        get(
            "several ranges get the whole file",
            down(&good.id),
            vec![("range", "bytes=0-1,5-6".into())],
            200,
            None,
        ),
        get(
            "nonsense range gets the whole file",
            down(&good.id),
            vec![("range", "bytes=banana".into())],
            200,
            None,
        ),
        get(
            "reversed range gets the whole file",
            down(&good.id),
            vec![("range", "bytes=9-2".into())],
            200,
            None,
        ),
    ];
    // The quota: 150 000 bytes, so a second file of 90 000 does not fit after one.
    cases.push(post(
        "fits the quota",
        up("q1.txt"),
        vec![b'q'; 90_000],
        201,
        None,
    ));
    cases.push(post(
        "over the room quota",
        up("q2.txt"),
        vec![b'q'; 90_000],
        413,
        Some("room_quota"),
    ));
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let http = reqwest::Client::new();
    for case in &cases {
        let mut request = match case.method {
            "POST" => http.post(relay.http(&case.path)).body(case.body.clone()),
            _ => http.get(relay.http(&case.path)),
        };
        if let Some(token) = &case.token {
            request = request.bearer_auth(token);
        }
        for (k, v) in &case.headers {
            request = request.header(*k, v);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let body = answer.bytes().await.unwrap();
        assert_eq!(
            status,
            case.status,
            "{}: {}",
            case.what,
            String::from_utf8_lossy(&body)
        );
        if let Some(code) = case.code {
            let json: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{}: not JSON: {body:?}", case.what));
            assert_eq!(json["error"]["code"], code, "{}: {json}", case.what);
            assert!(
                json["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{}",
                case.what
            );
        }
        if case.method == "GET" && (status == 200 || status == 206) {
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert!(headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;"));
            assert_eq!(headers["content-type"], "application/pdf");
            let expected: &[u8] = match case.what {
                "first bytes" => &pdf_bytes[..4],
                "last bytes" => &pdf_bytes[len - 6..],
                "range past the end is cut" => &pdf_bytes[4..],
                _ => &pdf_bytes,
            };
            assert_eq!(&body[..], expected, "{}", case.what);
        }
        if status == 416 {
            assert_eq!(headers["content-range"], format!("bytes */{len}"));
        }
    }

    // Concurrent uploads of one name: each is its own file under its own id.
    let both = futures_util::future::join_all((0..2).map(|i| {
        let files = files.clone();
        let path = write(scratch.path(), &format!("same-{i}.txt"), b"same name\n");
        async move { files.upload(&path, Some("same.txt"), None).await }
    }))
    .await;
    let ids: Vec<String> = both.into_iter().map(|r| r.unwrap().id).collect();
    assert_ne!(ids[0], ids[1]);

    // Nothing escaped: under the data directory only the stores and the files named by
    // their ids exist, and nothing named after a user's name.
    let listed: Vec<Material> = files.list().await.unwrap().items;
    let stored = files_under(relay.data_dir());
    for path in &stored {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let in_materials = path.parent() == Some(&relay.data_dir().join("materials"));
        assert!(
            (in_materials && listed.iter().any(|m| m.id == name))
                || (path.parent() == Some(relay.data_dir()) && !in_materials),
            "unexpected file {}",
            path.display()
        );
    }
    assert!(files_under(&relay.data_dir().join("materials/.partial")).is_empty());
    // Look-alike names are kept as given, for display only.
    let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"\u{440}aypal.txt"), "{names:?}");
    assert!(names.contains(&"\u{ff50}df.txt"), "{names:?}");
}

#[tokio::test]
async fn only_the_uploader_shares_and_kicked_or_foreign_people_get_nothing() {
    let relay = TestRelay::start().await;
    let room = "perm";
    let (mut host, _) = relay.join_host(room, "host").await;
    let (mut ada, _) = relay.join(room, "ada").await;
    let scratch = tempfile::tempdir().unwrap();
    let files = Materials::new(&relay.url(), room, &relay.host_token(room, "host")).unwrap();
    let m = files
        .upload(&write(scratch.path(), "n.md", b"# notes\n"), None, None)
        .await
        .unwrap();
    assert_eq!(m.mime, "text/markdown");
    let share = || -> ClientMessage { MaterialRequest::MaterialShare { id: m.id.clone() }.into() };
    assert_eq!(acked(&mut ada, share()).await, Err(ErrorCode::Forbidden));
    acked(&mut host, share()).await.unwrap();
    // The host lets everyone upload; ada's upload works, and she may delete her own only.
    acked(
        &mut host,
        MaterialRequest::MaterialsOptions {
            anyone_uploads: true,
        }
        .into(),
    )
    .await
    .unwrap();
    let ada_files = Materials::new(&relay.url(), room, &relay.token(room, "ada")).unwrap();
    let hers = ada_files
        .upload(&write(scratch.path(), "h.txt", b"hers\n"), None, None)
        .await
        .unwrap();
    let delete =
        |id: &str| -> ClientMessage { MaterialRequest::MaterialDelete { id: id.into() }.into() };
    assert_eq!(
        acked(&mut ada, delete(&m.id)).await,
        Err(ErrorCode::Forbidden)
    );
    acked(&mut ada, delete(&hers.id)).await.unwrap();
    let to = scratch.path().join("gone");
    let err = ada_files.download(&hers, &to, None).await.unwrap_err();
    assert!(
        matches!(&err, MaterialsError::Refused { status: 404, .. }),
        "{err:?}"
    );
    // Kicked, ada's token no longer downloads.
    acked(
        &mut host,
        ClientMessage::Kick {
            identity: "ada".into(),
            reason: None,
        },
    )
    .await
    .unwrap();
    let err = ada_files.download(&m, &to, None).await.unwrap_err();
    assert!(
        matches!(&err, MaterialsError::Refused { status: 403, code, .. } if code == "banned"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_download_no_one_reads_does_not_hold_a_stopping_relay_past_its_drain_time() {
    let relay = TestRelay::start().await;
    let scratch = tempfile::tempdir().unwrap();
    let room = "stop";
    let token = relay.host_token(room, "host");
    let files = Materials::new(&relay.url(), room, &token).unwrap();
    let mut bytes = pdf("large");
    bytes.resize(8 * 1024 * 1024, b'x');
    let material = files
        .upload(&write(scratch.path(), "large.pdf", &bytes), None, None)
        .await
        .unwrap();
    // A download whose body nobody reads: the relay's writes block once the socket's
    // buffers are full.
    let stalled = reqwest::Client::new()
        .get(relay.http(&format!("/v1/rooms/{room}/materials/{}", material.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stalled.status(), 200);
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), relay.stop())
        .await
        .expect("the relay stopped");
    // drain_timeout is 2 s in tests: waited for once for sockets, once for HTTP.
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    drop(stalled);
}
