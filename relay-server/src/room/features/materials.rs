//! Materials (see [`studyhall_protocol::materials`]): files shared with a room. The bytes
//! come and go over HTTP (`http::materials`) and live on disk ([`FileStore`]); each
//! file's entry is in the [`MaterialStore`]. Over the socket the uploader shares a
//! stored file (it is posted in chat as an attachment and everyone is told), the host,
//! presenters and the uploader delete one, and the host opens uploading to everyone
//! (kept in the room-state store under [`STORE_KEY`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use studyhall_protocol::materials::is_material_id;
use studyhall_protocol::{
    Attachment, ClientMessage, ErrorCode, FeatureEvent, Grants, MaterialEvent, MaterialRequest,
    MaterialsState, ServerMessage,
};
use tracing::{info, warn};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::room::{ConnHandle, Room};
use crate::store::files::FileStore;
use crate::store::{MaterialStore, NewChatMessage, StoredMaterial};

/// The room-state key of who may upload.
pub const STORE_KEY: &str = "materials";
/// A file on disk with no entry is removed by the sweep once it is this old (an upload
/// stores its entry moments after its file).
const ORPHAN_AGE: Duration = Duration::from_secs(3600);
/// How often the sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// What the materials feature works with.
pub struct MaterialServices {
    pub store: Arc<dyn MaterialStore>,
    pub files: FileStore,
    pub limits: MaterialLimits,
    pub uploads: UploadSlots,
    /// This node's id in a cluster (kept with each file it receives), empty embedded.
    pub node: String,
}

/// The configured limits.
#[derive(Debug, Clone, Copy)]
pub struct MaterialLimits {
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
    pub uploads_at_once: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Options {
    #[serde(default)]
    anyone_uploads: bool,
}

pub struct Materials;

#[async_trait::async_trait]
impl RoomFeature for Materials {
    fn name(&self) -> &'static str {
        "materials"
    }

    fn kinds(&self) -> &'static [&'static str] {
        MaterialRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Materials);
        match request {
            MaterialRequest::MaterialShare { id } => share(cx, &id).await,
            MaterialRequest::MaterialDelete { id } => delete(cx, &id).await,
            MaterialRequest::MaterialsOptions { anyone_uploads } => {
                let now: Options = super::load_state(cx.services, &cx.room.name, STORE_KEY).await?;
                if now.anyone_uploads == anyone_uploads {
                    return Ok(Reply::Ack);
                }
                super::save_state(
                    cx.services,
                    &cx.room.name,
                    STORE_KEY,
                    &Options { anyone_uploads },
                )
                .await?;
                cx.room.broadcast(
                    &event(MaterialEvent::MaterialsAccess {
                        anyone_uploads,
                        by: cx.identity.to_string(),
                    }),
                    None,
                );
                Ok(Reply::Ack)
            }
        }
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        match state(services, &room.name).await {
            Ok(state) => into.features.materials = state,
            Err(refused) => super::warn_refused(services, conn, refused),
        }
    }
}

fn event(e: MaterialEvent) -> ServerMessage {
    ServerMessage::Feature(FeatureEvent::Materials(e))
}

fn unavailable(e: impl std::fmt::Display) -> Refused {
    Refused::new(
        ErrorCode::StorageUnavailable,
        format!("the materials could not be read or changed: {e}"),
    )
}

/// A room's materials as a joiner sees them.
pub async fn state(services: &Services, room: &str) -> Result<MaterialsState, Refused> {
    let m = &services.materials;
    let items = m.store.list(room).await.map_err(unavailable)?;
    let options: Options = super::load_state(services, room, STORE_KEY).await?;
    Ok(MaterialsState {
        used_bytes: items.iter().map(|e| e.material.size).sum(),
        items: items.into_iter().map(|e| e.material).collect(),
        anyone_uploads: options.anyone_uploads,
        max_file_bytes: m.limits.max_file_bytes,
        quota_bytes: m.limits.quota_bytes,
        uploads_at_once: m.limits.uploads_at_once,
    })
}

/// Why `identity` (holding `grants`) may not upload to `room_name`, if it may not: the
/// host and presenters may, and everyone when the host allows it.
pub async fn may_upload(
    services: &Services,
    room: Option<&Arc<Room>>,
    room_name: &str,
    identity: &str,
    grants: Grants,
) -> Result<(), Refused> {
    if grants.host || super::lecture::is_presenter(services, room, room_name, identity).await? {
        return Ok(());
    }
    let options: Options = super::load_state(services, room_name, STORE_KEY).await?;
    if options.anyone_uploads {
        return Ok(());
    }
    Err(Refused::new(
        ErrorCode::Forbidden,
        "only the host and presenters can share files in this room (the host can let everyone)",
    ))
}

async fn find(cx: &Cx<'_>, id: &str) -> Result<StoredMaterial, Refused> {
    if !is_material_id(id) {
        return Err(Refused::new(
            ErrorCode::InvalidId,
            "id: a material id is 32 lowercase hex digits",
        ));
    }
    cx.services
        .materials
        .store
        .get(&cx.room.name, id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Refused::new(ErrorCode::NotFound, format!("no file {id} in this room")))
}

async fn share(cx: &mut Cx<'_>, id: &str) -> Outcome {
    let entry = find(cx, id).await?;
    if entry.material.by != cx.identity {
        return Err(Refused::new(
            ErrorCode::Forbidden,
            "only whoever uploaded a file shares it",
        ));
    }
    let material = entry.material;
    let posted = super::chat::post(
        cx.services,
        cx.room,
        NewChatMessage {
            from: cx.identity.to_string(),
            name: cx.name.to_string(),
            client_msg_id: format!("{}{id}", super::chat::RESERVED_ID_PREFIX),
            text: cx.services.filter.mask(&material.name),
            attachment: Some(Attachment::from(&material)),
        },
    )
    .await;
    let posted = match posted {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "a shared file's chat message was not stored");
            return Err(Refused::new(
                ErrorCode::StorageUnavailable,
                "the file is stored but its chat message was not; send material_share again",
            ));
        }
    };
    // Shared before: nothing changes, and nobody is told again.
    if posted.duplicate {
        return Ok(Reply::Ack);
    }
    let used_bytes = cx
        .services
        .materials
        .store
        .used(&cx.room.name)
        .await
        .map_err(unavailable)?;
    cx.room.broadcast(
        &event(MaterialEvent::MaterialAdded {
            request_id: None,
            material,
            used_bytes,
        }),
        None,
    );
    Ok(Reply::Ack)
}

async fn delete(cx: &mut Cx<'_>, id: &str) -> Outcome {
    let entry = find(cx, id).await?;
    if entry.material.by != cx.identity && !cx.presents() {
        return Err(Refused::new(
            ErrorCode::Forbidden,
            "only the host, presenters and whoever uploaded a file can delete it",
        ));
    }
    let m = &cx.services.materials;
    let Some((_, used_bytes)) = m
        .store
        .remove(&cx.room.name, id)
        .await
        .map_err(unavailable)?
    else {
        return Err(Refused::new(
            ErrorCode::NotFound,
            format!("no file {id} in this room"),
        ));
    };
    // The node holding the bytes may be another; its sweep removes them there.
    m.files.remove(id).await;
    info!(id, "material deleted");
    cx.room.broadcast(
        &event(MaterialEvent::MaterialRemoved {
            id: id.to_string(),
            by: cx.identity.to_string(),
            used_bytes,
        }),
        None,
    );
    Ok(Reply::Ack)
}

/// Uploads under way, per room and person (on this node).
#[derive(Debug, Default)]
pub struct UploadSlots {
    held: Mutex<HashMap<(String, String), u32>>,
}

/// One upload's place; given back when dropped.
pub struct UploadSlot {
    slots: Arc<Services>,
    key: (String, String),
}

impl UploadSlots {
    /// Take a place for `identity`'s upload to `room`, unless it has `most` under way.
    pub fn take(
        services: &Arc<Services>,
        room: &str,
        identity: &str,
        most: u32,
    ) -> Option<UploadSlot> {
        let key = (room.to_string(), identity.to_string());
        let mut held = crate::room::lock(&services.materials.uploads.held);
        let n = held.entry(key.clone()).or_default();
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(UploadSlot {
            slots: services.clone(),
            key,
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut held = crate::room::lock(&self.slots.materials.uploads.held);
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// Remove, now and every few minutes, files on disk whose entry is gone (deleted on
/// another node, or a crash between storing a file and its entry). Stops when the
/// services are dropped.
pub fn spawn_sweeper(services: std::sync::Weak<Services>) {
    tokio::spawn(async move {
        loop {
            let Some(s) = services.upgrade() else { return };
            let m = &s.materials;
            for (id, age) in m.files.held().await {
                if age < ORPHAN_AGE {
                    continue;
                }
                if let Ok(false) = m.store.exists(&id).await {
                    info!(id, "removing a shared file nothing refers to");
                    m.files.remove(&id).await;
                }
            }
            drop(s);
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;
    use crate::store::Added;
    use studyhall_protocol::Material;

    async fn stored(h: &Harness, by: &str, name: &str) -> Material {
        let material = Material {
            id: hex::encode(rand::random::<[u8; 16]>()),
            name: name.into(),
            size: 10,
            mime: "application/pdf".into(),
            sha256: "00".repeat(32),
            by: by.into(),
            by_name: by.to_uppercase(),
            at: crate::ids::now_ms(),
        };
        let added = h
            .services
            .materials
            .store
            .add(
                "r",
                &StoredMaterial {
                    material: material.clone(),
                    node: String::new(),
                },
                1000,
                10,
            )
            .await
            .unwrap();
        assert!(matches!(added, Added::Stored { .. }));
        material
    }

    fn share(id: &str) -> ClientMessage {
        MaterialRequest::MaterialShare { id: id.into() }.into()
    }

    fn delete(id: &str) -> ClientMessage {
        MaterialRequest::MaterialDelete { id: id.into() }.into()
    }

    #[tokio::test]
    async fn sharing_posts_one_chat_attachment_and_tells_everyone() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        host.drain();
        let m = stored(&h, "bob", "week1.pdf").await;
        assert_eq!(h.send(&mut bob, share(&m.id)).await.unwrap(), Reply::Ack);
        assert_eq!(h.send(&mut bob, share(&m.id)).await.unwrap(), Reply::Ack);
        let seen = host.drain();
        let chats: Vec<_> = seen
            .iter()
            .filter(|e| e["type"] == "chat_message")
            .collect();
        assert_eq!(chats.len(), 1, "a repeated share posts once: {seen:?}");
        assert_eq!(chats[0]["message"]["attachment"]["id"], m.id.as_str());
        assert_eq!(chats[0]["message"]["text"], "week1.pdf");
        let added: Vec<_> = seen
            .iter()
            .filter(|e| e["type"] == "material_added")
            .collect();
        assert_eq!(added[0]["material"]["name"], "week1.pdf");
        assert_eq!(added.len(), 1, "a repeated share tells nobody again");
        assert_eq!(added[0]["used_bytes"], 10);
        let mine = bob.drain();
        assert!(mine.iter().any(|e| e["type"] == "material_added"));
        let err = h.send(&mut host, share(&m.id)).await.unwrap_err();
        assert!(matches!(
            err,
            Refused::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
        let err = h
            .send(&mut bob, share("../../etc/passwd"))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            Refused::Error {
                code: ErrorCode::InvalidId,
                ..
            }
        ));
        let err = h.send(&mut bob, share(&"a".repeat(32))).await.unwrap_err();
        assert!(matches!(
            err,
            Refused::Error {
                code: ErrorCode::NotFound,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn the_uploader_presenters_and_the_host_delete() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        let mut cyd = h.join("cyd");
        let a = stored(&h, "bob", "a.pdf").await;
        let b = stored(&h, "bob", "b.pdf").await;
        let c = stored(&h, "cyd", "c.pdf").await;
        let err = h.send(&mut cyd, delete(&a.id)).await.unwrap_err();
        assert!(matches!(
            err,
            Refused::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
        assert_eq!(h.send(&mut bob, delete(&a.id)).await.unwrap(), Reply::Ack);
        assert_eq!(h.send(&mut host, delete(&b.id)).await.unwrap(), Reply::Ack);
        h.room.set_role("cyd", studyhall_protocol::Role::Presenter);
        assert_eq!(h.send(&mut cyd, delete(&c.id)).await.unwrap(), Reply::Ack);
        let err = h.send(&mut host, delete(&c.id)).await.unwrap_err();
        assert!(matches!(
            err,
            Refused::Error {
                code: ErrorCode::NotFound,
                ..
            }
        ));
        let removed: Vec<_> = bob
            .drain()
            .into_iter()
            .filter(|e| e["type"] == "material_removed")
            .collect();
        assert_eq!(removed.len(), 3);
        assert_eq!(removed[2]["used_bytes"], 0);
        let state = state(&h.services, "r").await.unwrap();
        assert!(state.items.is_empty());
    }

    #[tokio::test]
    async fn the_host_lets_everyone_upload() {
        let (h, mut host) = Harness::new();
        let _bob = h.join("bob");
        let member = Grants::member();
        assert!(may_upload(&h.services, Some(&h.room), "r", "bob", member)
            .await
            .is_err());
        assert!(
            may_upload(&h.services, Some(&h.room), "r", "host", Grants::host())
                .await
                .is_ok()
        );
        let open = MaterialRequest::MaterialsOptions {
            anyone_uploads: true,
        };
        assert_eq!(h.send(&mut host, open.into()).await.unwrap(), Reply::Ack);
        assert!(may_upload(&h.services, None, "r", "bob", member)
            .await
            .is_ok());
        assert!(state(&h.services, "r").await.unwrap().anyone_uploads);
    }

    #[tokio::test]
    async fn a_person_has_a_bounded_number_of_uploads_under_way() {
        let (h, _host) = Harness::new();
        let services = Arc::new(h.services);
        let one = UploadSlots::take(&services, "r", "bob", 2).unwrap();
        let _two = UploadSlots::take(&services, "r", "bob", 2).unwrap();
        assert!(UploadSlots::take(&services, "r", "bob", 2).is_none());
        assert!(UploadSlots::take(&services, "r", "cyd", 2).is_some());
        drop(one);
        assert!(UploadSlots::take(&services, "r", "bob", 2).is_some());
    }
}
