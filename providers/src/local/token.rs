//! Bootstrap tokens in kubeadm's format, `[a-z0-9]{6}.[a-z0-9]{16}`, from
//! the operating system's random source.

use k8sinfra_engine::provider::{Attrs, Remote};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde_json::json;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

pub fn generate() -> Result<Remote, String> {
    let id = random_text(6)?;
    let secret = random_text(16)?;
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("token".into(), json!(format!("{id}.{secret}")));
    Ok(Remote { id, attrs })
}

/// `len` characters of the alphabet, each equally likely: bytes at or
/// above the largest multiple of 36 are drawn again rather than folded.
fn random_text(len: usize) -> Result<String, String> {
    let random = SystemRandom::new();
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut byte = [0u8; 1];
        random.fill(&mut byte).map_err(|_| "the system's random source failed".to_string())?;
        if byte[0] < limit {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(out)
}
