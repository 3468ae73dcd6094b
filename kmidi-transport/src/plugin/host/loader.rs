//! Loading a transport plugin: `dlopen`, find `kmidi_transport_v1`, validate its table
//! (magic, ABI version, size, strings) before trusting anything in it, and discovery of
//! plugins in directories for `kmidi transports`.
//!
//! Each check fails with an error that names the file, what was expected and what was
//! found, in the order a user can act on them.

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};

use crate::plugin::abi::{
    kmidi_transport_table, EntryFn, KMIDI_CAP_CONSUMER_GROUPS, KMIDI_CAP_CONSUMER_PROTOCOL,
    KMIDI_CAP_HEADERS, KMIDI_CAP_IDEMPOTENCE, KMIDI_CAP_SASL, KMIDI_CAP_SHARE_GROUPS,
    KMIDI_CAP_TIMESTAMPS, KMIDI_CAP_TLS, KMIDI_TRANSPORT_ABI_VERSION, KMIDI_TRANSPORT_MAGIC,
    KMIDI_TRANSPORT_SYMBOL, KMIDI_TRANSPORT_TABLE_V1_SIZE,
};
use crate::{Capabilities, TransportInfo};

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("transport plugin {}: no such file", path.display())]
    NotFound { path: PathBuf },

    #[error(
        "transport plugin {}: not a loadable shared library (expected a .so built for this \
         platform): {detail}",
        path.display()
    )]
    NotALibrary { path: PathBuf, detail: String },

    #[error(
        "transport plugin {}: no `{symbol}` symbol; expected a kmidi transport plugin \
         exporting it (see kmidi-transport/include/kmidi_transport.h): {detail}",
        path.display()
    )]
    MissingSymbol {
        path: PathBuf,
        symbol: &'static str,
        detail: String,
    },

    #[error(
        "transport plugin {}: `{symbol}({host})` returned NULL: the plugin refuses to serve \
         a host speaking ABI version {host}",
        path.display()
    )]
    Refused {
        path: PathBuf,
        symbol: &'static str,
        host: u32,
    },

    #[error(
        "transport plugin {}: wrong magic: expected {expected:#010x} (\"KMID\"), found \
         {found:#010x}; this is not a kmidi transport table",
        path.display()
    )]
    BadMagic {
        path: PathBuf,
        expected: u32,
        found: u32,
    },

    #[error(
        "transport plugin {}: wrong ABI version: expected {expected}, found {found}",
        path.display()
    )]
    BadVersion {
        path: PathBuf,
        expected: u32,
        found: u32,
    },

    #[error(
        "transport plugin {}: table too small: struct_size is {found} bytes, a version-1 \
         table has at least {expected}",
        path.display()
    )]
    TableTooSmall {
        path: PathBuf,
        expected: usize,
        found: u32,
    },

    #[error("transport plugin {}: table field `{field}` {problem}", path.display())]
    BadString {
        path: PathBuf,
        field: &'static str,
        problem: &'static str,
    },
}

/// A validated plugin table and what it says about itself. Lives forever: the library
/// it came from is never unloaded.
#[derive(Debug)]
pub(crate) struct Plugin {
    pub path: PathBuf,
    pub table: Table,
    pub info: TransportInfo,
    /// What the table says its size is: 160 for a plugin built against the first v1
    /// header, 184 against the second, 192 today, more for a plugin built against a
    /// newer header.
    pub struct_size: u32,
}

/// A copy of the plugin's table: what its struct_size covers, the rest NULL.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table(pub kmidi_transport_table);

// SAFETY: the table holds function pointers and pointers to static strings in a library
// that is never unloaded; the ABI allows calls from any thread (one thread per handle,
// different handles concurrently), and the host enforces one-thread-per-handle through
// `&mut` on its wrappers.
unsafe impl Send for Table {}
// SAFETY: as above; the copy is never mutated.
unsafe impl Sync for Table {}

/// The name, library and capabilities of the plugin at `path`, for listings.
pub fn probe(path: &Path) -> Result<TransportInfo, PluginError> {
    open(path).map(|p| p.info)
}

/// Opens the library at `path` and validates its table before anything in it is used.
pub(super) fn open(path: &Path) -> Result<Plugin, PluginError> {
    let path = path.to_path_buf();
    if !path.exists() {
        return Err(PluginError::NotFound { path });
    }
    // A bare file name would make dlopen search the system library path instead of
    // opening the file the user named.
    let load_path = if path.is_absolute() || path.components().count() > 1 {
        path.clone()
    } else {
        Path::new(".").join(&path)
    };
    // SAFETY: loading a library runs its initializers; that is the point of a plugin,
    // and the user chose this file. libloading uses RTLD_LOCAL | RTLD_LAZY.
    let library =
        unsafe { libloading::Library::new(&load_path) }.map_err(|e| PluginError::NotALibrary {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    // SAFETY: the symbol's type is fixed by the ABI (kmidi_transport.h); a plugin that
    // exports it with another signature breaks the ABI contract.
    let entry: EntryFn = unsafe { library.get::<EntryFn>(KMIDI_TRANSPORT_SYMBOL) }
        .map(|sym| *sym)
        .map_err(|e| PluginError::MissingSymbol {
            path: path.clone(),
            symbol: "kmidi_transport_v1",
            detail: e.to_string(),
        })?;
    // Never unload: dlclose after a plugin started threads, registered thread-locals
    // (Rust std, tokio) or a Go runtime is a known crash source, and every pointer we
    // copy out of the table points into the library. Leaking one handle per plugin for
    // the life of the process is the price, paid once per file.
    std::mem::forget(library);

    // SAFETY: `entry` is the plugin's exported v1 function (see above); it takes the
    // host's ABI version and returns a pointer to a static table or NULL.
    let raw = unsafe { entry(KMIDI_TRANSPORT_ABI_VERSION) };
    if raw.is_null() {
        return Err(PluginError::Refused {
            path,
            symbol: "kmidi_transport_v1",
            host: KMIDI_TRANSPORT_ABI_VERSION,
        });
    }
    // SAFETY: the ABI guarantees the first three u32 fields of any table version;
    // only those are read until struct_size says the rest is there.
    let (magic, abi_version, struct_size) = unsafe {
        (
            std::ptr::addr_of!((*raw).magic).read_unaligned(),
            std::ptr::addr_of!((*raw).abi_version).read_unaligned(),
            std::ptr::addr_of!((*raw).struct_size).read_unaligned(),
        )
    };
    if magic != KMIDI_TRANSPORT_MAGIC {
        return Err(PluginError::BadMagic {
            path,
            expected: KMIDI_TRANSPORT_MAGIC,
            found: magic,
        });
    }
    if abi_version != KMIDI_TRANSPORT_ABI_VERSION {
        return Err(PluginError::BadVersion {
            path,
            expected: KMIDI_TRANSPORT_ABI_VERSION,
            found: abi_version,
        });
    }
    if (struct_size as usize) < KMIDI_TRANSPORT_TABLE_V1_SIZE {
        return Err(PluginError::TableTooSmall {
            path,
            expected: KMIDI_TRANSPORT_TABLE_V1_SIZE,
            found: struct_size,
        });
    }
    // SAFETY: `raw` points to a table of at least struct_size bytes (checked above to
    // cover the first v1 table), per the ABI.
    let table = Table(unsafe { copy_table(raw, struct_size as usize) });
    let info = TransportInfo {
        name: table_str(&path, "name", table.0.name)?,
        library: table_str(&path, "library", table.0.library)?,
        library_version: table_str(&path, "library_version", table.0.library_version)?,
        capabilities: capabilities(table.0.capabilities),
    };
    if info.name.is_empty() {
        return Err(PluginError::BadString {
            path,
            field: "name",
            problem: "is empty; expected the name users pass to --transport",
        });
    }
    Ok(Plugin {
        path,
        table,
        info,
        struct_size,
    })
}

/// Copies what `struct_size` covers of the plugin's table: the first v1 table always,
/// then each appended entry whose bytes lie wholly inside `struct_size`. Entries past it
/// (a plugin built against the older 160- or 184-byte header) stay NULL; bytes past the table
/// this host knows (a newer plugin's) are never read.
///
/// # Safety
/// `raw` points to at least `struct_size` readable bytes, `struct_size` is at least
/// [`KMIDI_TRANSPORT_TABLE_V1_SIZE`], and those bytes are a table as the ABI lays it out.
unsafe fn copy_table(
    raw: *const kmidi_transport_table,
    struct_size: usize,
) -> kmidi_transport_table {
    use std::mem::{offset_of, size_of, MaybeUninit};
    let mut table = MaybeUninit::<kmidi_transport_table>::zeroed();
    let dst = table.as_mut_ptr();
    // SAFETY: the first v1 table's bytes are readable (caller's contract) and `dst` is a
    // whole table; the two cannot overlap (`dst` is on our stack).
    unsafe {
        std::ptr::copy_nonoverlapping(
            raw.cast::<u8>(),
            dst.cast::<u8>(),
            KMIDI_TRANSPORT_TABLE_V1_SIZE,
        );
    }
    let covers = |offset: usize, size: usize| offset + size <= struct_size;
    macro_rules! appended {
        ($($field:ident),*) => {$(
            if covers(
                offset_of!(kmidi_transport_table, $field),
                size_of::<Option<unsafe extern "C" fn()>>(),
            ) {
                // SAFETY: the field lies within struct_size (just checked), so it is
                // readable; read_unaligned because a C table need not be aligned as
                // Rust's is; a NULL or function pointer is valid for `Option<fn>`.
                unsafe {
                    std::ptr::addr_of_mut!((*dst).$field)
                        .write(std::ptr::addr_of!((*raw).$field).read_unaligned());
                }
            }
        )*};
    }
    appended!(
        consumer_assignment,
        producer_settings,
        consumer_settings,
        partition_leaders
    );
    // SAFETY: every field is initialized: the prefix from the plugin, the appended entries
    // from it or zeroed, and all-zero bytes are a valid table (NULL pointers, `None`s).
    unsafe { table.assume_init() }
}

fn table_str(path: &Path, field: &'static str, p: *const c_char) -> Result<String, PluginError> {
    if p.is_null() {
        return Err(PluginError::BadString {
            path: path.to_path_buf(),
            field,
            problem: "is NULL; expected a static NUL-terminated UTF-8 string",
        });
    }
    // SAFETY: the ABI requires these to be static NUL-terminated strings in the
    // (never unloaded) library.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_string)
        .map_err(|_| PluginError::BadString {
            path: path.to_path_buf(),
            field,
            problem: "is not valid UTF-8",
        })
}

fn capabilities(bits: u64) -> Capabilities {
    let has = |bit: u64| bits & bit != 0;
    Capabilities {
        consumer_groups: has(KMIDI_CAP_CONSUMER_GROUPS),
        timestamps: has(KMIDI_CAP_TIMESTAMPS),
        headers: has(KMIDI_CAP_HEADERS),
        tls: has(KMIDI_CAP_TLS),
        sasl: has(KMIDI_CAP_SASL),
        idempotence: has(KMIDI_CAP_IDEMPOTENCE),
        consumer_protocol: has(KMIDI_CAP_CONSUMER_PROTOCOL),
        share_groups: has(KMIDI_CAP_SHARE_GROUPS),
    }
}

/// The directories to search for plugins: `dirs`, then each entry of
/// `KMIDI_PLUGIN_PATH` (colon-separated), without duplicates.
pub fn plugin_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = dirs.to_vec();
    if let Some(env) = std::env::var_os("KMIDI_PLUGIN_PATH") {
        all.extend(std::env::split_paths(&env).filter(|p| !p.as_os_str().is_empty()));
    }
    let mut seen = Vec::new();
    all.retain(|d| {
        let fresh = !seen.contains(d);
        seen.push(d.clone());
        fresh
    });
    all
}

/// Every `*.so` in `dirs` and `KMIDI_PLUGIN_PATH`, sorted by path within each directory,
/// each with its info or the reason it cannot be loaded. Unreadable directories are
/// skipped: discovery is for listings and must not fail as a whole.
pub fn discover(dirs: &[PathBuf]) -> Vec<(PathBuf, Result<TransportInfo, PluginError>)> {
    let mut found = Vec::new();
    for dir in plugin_dirs(dirs) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "so") && p.is_file())
            .collect();
        files.sort();
        for file in files {
            let info = probe(&file);
            found.push((file, info));
        }
    }
    found
}
