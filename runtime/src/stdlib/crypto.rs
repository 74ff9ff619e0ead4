//! The `crypto` module (FORGE.md §10): digests (`sha256`, `sha512`, `md5`,
//! `hmac_sha256`) as lower-case hex of the UTF-8 bytes, and Base64 / hex
//! encoding of Strings.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

use crate::builtins::args;
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::Value;

pub fn register(b: &mut Builder) {
    b.module("crypto", |m| {
        m.func("sha256", 1, 1, sha256);
        m.func("sha512", 1, 1, sha512);
        m.func("md5", 1, 1, md5);
        m.func("hmac_sha256", 2, 2, hmac_sha256);
        m.func("base64_encode", 1, 1, base64_encode);
        m.func("base64_decode", 1, 1, base64_decode);
        m.func("hex_encode", 1, 1, hex_encode);
        m.func("hex_decode", 1, 1, hex_decode);
    });
}

fn digest<D: Digest>(args: &[Value], func: &str) -> EvalResult {
    let s = args::string(&args[0], func)?;
    Ok(Value::from(hex::encode(D::digest(s.as_bytes()))))
}

fn sha256(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    digest::<Sha256>(args, "crypto.sha256")
}

fn sha512(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    digest::<Sha512>(args, "crypto.sha512")
}

fn md5(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    digest::<Md5>(args, "crypto.md5")
}

fn hmac_sha256(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let key = args::string(&args[0], "crypto.hmac_sha256")?;
    let msg = args::string(&args[1], "crypto.hmac_sha256")?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .map_err(|e| Ctrl::runtime(format!("crypto.hmac_sha256() error: {e}")))?;
    mac.update(msg.as_bytes());
    Ok(Value::from(hex::encode(mac.finalize().into_bytes())))
}

fn base64_encode(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "crypto.base64_encode")?;
    Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())))
}

fn base64_decode(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "crypto.base64_decode")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .map_err(|e| Ctrl::runtime(format!("base64 decode error: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| Ctrl::runtime("base64 decode error: decoded bytes are not valid UTF-8"))
}

fn hex_encode(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "crypto.hex_encode")?;
    Ok(Value::from(hex::encode(s.as_bytes())))
}

fn hex_decode(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let s = args::string(&args[0], "crypto.hex_decode")?;
    let bytes = hex::decode(s.as_bytes()).map_err(|e| Ctrl::runtime(format!("hex decode error: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| Ctrl::runtime("hex decode error: decoded bytes are not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call_module, show};
    use crate::value::Value;

    fn c(name: &str, args: &[&str]) -> String {
        show(call_module("crypto", name, args.iter().map(|a| Value::from(*a)).collect()))
    }

    #[test]
    fn digests() {
        assert_eq!(c("sha256", &["hello"]), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(c("sha256", &[""]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(c("md5", &["hello"]), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(c("md5", &["The quick brown fox jumps over the lazy dog"]), "9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(
            c("sha512", &["abc"]),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(
            c("hmac_sha256", &["key", "The quick brown fox jumps over the lazy dog"]),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(
            show(call_module("crypto", "sha256", vec![Value::Int(1)])),
            "error: crypto.sha256() requires a string"
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(c("base64_encode", &["hello world"]), "aGVsbG8gd29ybGQ=");
        assert_eq!(c("base64_decode", &["aGVsbG8gd29ybGQ="]), "hello world");
        assert_eq!(c("base64_encode", &[""]), "");
        assert_eq!(c("base64_encode", &["a"]), "YQ==");
        assert_eq!(c("base64_encode", &["héllo"]), "aMOpbGxv");
        assert!(c("base64_decode", &["!!"]).starts_with("error: base64 decode error: "));
        assert!(c("base64_decode", &["YQ"]).starts_with("error: base64 decode error: "));
        assert_eq!(c("base64_decode", &["/w=="]), "error: base64 decode error: decoded bytes are not valid UTF-8");
        assert_eq!(c("hex_encode", &["AB"]), "4142");
        assert_eq!(c("hex_decode", &["4142"]), "AB");
        assert_eq!(c("hex_encode", &["hi!"]), "686921");
        assert!(c("hex_decode", &["zz"]).starts_with("error: hex decode error: "));
        assert!(c("hex_decode", &["414"]).starts_with("error: hex decode error: "));
        assert_eq!(c("hex_decode", &["ff"]), "error: hex decode error: decoded bytes are not valid UTF-8");
    }
}
