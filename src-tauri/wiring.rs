//! The command wiring, generated from one list: the `#[tauri::command]`
//! functions in `src/*.rs`. Shared by `build.rs` (the handler list and the
//! app manifest, made at build time) and by the `bindings` test (the checked-in
//! copies: the capability's permission list and the UI's typed wrappers in
//! `ui/src/lib/commands.ts`, which fail the test when stale).
//!
//! Adding a command is writing the function: nothing else is kept by hand.

use std::fmt::Write as _;
use std::path::Path;

/// One `#[tauri::command]` function.
pub struct Command {
    /// The Rust module it lives in (`commands`, `sync`, …).
    pub module: String,
    /// The function's name: also the command's name on the IPC.
    pub name: String,
    /// Its doc comment, line by line (carried into the TS wrapper).
    pub docs: Vec<String>,
    /// Arguments the webview passes: (Rust name, TS type).
    pub args: Vec<(String, String)>,
    /// The TS type of what it answers.
    pub result: String,
    /// Named types the wrapper mentions (each a ts-rs binding).
    pub types: Vec<String>,
}

/// Arguments Tauri injects; the webview never passes them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "WebviewWindow", "Webview"];

/// Every command in `src_dir`'s files, in file order then source order; the
/// files are read sorted by name so the output is stable.
pub fn commands(src_dir: &Path) -> Result<Vec<Command>, String> {
    let mut files: Vec<_> = std::fs::read_dir(src_dir)
        .map_err(|e| format!("{}: {e}", src_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if !text.contains("#[tauri::command]") {
            continue;
        }
        let module = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let parsed = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        for item in parsed.items {
            let syn::Item::Fn(f) = item else { continue };
            if !f.attrs.iter().any(is_command_attr) {
                continue;
            }
            // The handler names commands by module path; the crate root has none.
            if module == "lib" || module == "main" {
                return Err(format!("{}: keep commands in a module, not the crate root", file.display()));
            }
            out.push(command(&module, &f).map_err(|e| format!("{}: {}: {e}", file.display(), f.sig.ident))?);
        }
    }
    let mut names: Vec<&str> = out.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two commands are named {}", w[0]));
    }
    Ok(out)
}

fn is_command_attr(a: &syn::Attribute) -> bool {
    let segs: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
    segs == ["tauri", "command"]
}

fn command(module: &str, f: &syn::ItemFn) -> Result<Command, String> {
    let mut types = Vec::new();
    let mut args = Vec::new();
    for input in &f.sig.inputs {
        let syn::FnArg::Typed(pt) = input else { return Err("a command cannot take self".into()) };
        if last_ident(&pt.ty).is_some_and(|i| INJECTED.contains(&i.as_str())) {
            continue;
        }
        let syn::Pat::Ident(name) = &*pt.pat else { return Err("arguments must be plain names".into()) };
        args.push((name.ident.to_string(), ts_type(&pt.ty, &mut types)?));
    }
    let result = match &f.sig.output {
        syn::ReturnType::Default => "null".to_string(),
        syn::ReturnType::Type(_, ty) => match result_inner(ty) {
            Some(inner) => ts_type(inner, &mut types)?,
            None => ts_type(ty, &mut types)?,
        },
    };
    types.sort();
    types.dedup();
    Ok(Command { module: module.to_string(), name: f.sig.ident.to_string(), docs: docs(&f.attrs), args, result, types })
}

fn docs(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => last_ident(&r.elem),
        _ => None,
    }
}

fn generic_args(ty: &syn::Type) -> Vec<&syn::Type> {
    let syn::Type::Path(p) = ty else { return Vec::new() };
    let Some(seg) = p.path.segments.last() else { return Vec::new() };
    let syn::PathArguments::AngleBracketed(a) = &seg.arguments else { return Vec::new() };
    a.args
        .iter()
        .filter_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// `Cmd<T>` and `Result<T, E>` answer `T` (the error is the CommandError
/// every wrapper throws).
fn result_inner(ty: &syn::Type) -> Option<&syn::Type> {
    match last_ident(ty)?.as_str() {
        "Cmd" | "Result" => generic_args(ty).first().copied(),
        _ => None,
    }
}

/// The TS spelling of a Rust type as serde_json writes it.
fn ts_type(ty: &syn::Type, named: &mut Vec<String>) -> Result<String, String> {
    if let syn::Type::Tuple(t) = ty
        && t.elems.is_empty()
    {
        return Ok("null".into());
    }
    let ident = last_ident(ty).ok_or_else(|| "a type the wiring cannot spell in TypeScript".to_string())?;
    let inner = |named: &mut Vec<String>| -> Result<String, String> {
        let g = generic_args(ty);
        match g.as_slice() {
            [one] => ts_type(one, named),
            _ => Err(format!("{ident} needs exactly one type argument")),
        }
    };
    Ok(match ident.as_str() {
        "String" | "str" | "PathBuf" | "Path" => "string".into(),
        "bool" => "boolean".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" | "f32" | "f64" => "number".into(),
        "Option" => format!("{} | null", inner(named)?),
        "Vec" => {
            let t = inner(named)?;
            if t.contains(' ') { format!("({t})[]") } else { format!("{t}[]") }
        }
        _ if generic_args(ty).is_empty() => {
            named.push(ident.clone());
            ident
        }
        _ => return Err(format!("{ident}<…> has no TypeScript spelling here")),
    })
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for ch in snake.chars() {
        if ch == '_' {
            up = true;
        } else if up {
            out.extend(ch.to_uppercase());
            up = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The expression `tauri::generate_handler![module::name, …]`.
pub fn handler_rs(commands: &[Command]) -> String {
    let mut s = String::from("// Generated by build.rs from the #[tauri::command] functions.\ntauri::generate_handler![\n");
    for c in commands {
        let _ = writeln!(s, "    crate::{}::{},", c.module, c.name);
    }
    s.push_str("]\n");
    s
}

/// `src-tauri/capabilities/default.json`: the main window may call exactly
/// the commands, and listen to events; nothing of any plugin.
pub fn capability_json(commands: &[Command]) -> String {
    let mut perms = vec!["core:event:allow-listen".to_string(), "core:event:allow-unlisten".to_string()];
    perms.extend(commands.iter().map(|c| format!("allow-{}", c.name.replace('_', "-"))));
    let list = perms.iter().map(|p| format!("    \"{p}\"")).collect::<Vec<_>>().join(",\n");
    format!(
        "{{\n  \"$schema\": \"../gen/schemas/desktop-schema.json\",\n  \"identifier\": \"main\",\n  \"description\": \"Generated from the #[tauri::command] functions (src-tauri/wiring.rs): the main window may call exactly the desk's commands; no plugin APIs are exposed to the webview.\",\n  \"windows\": [\n    \"main\"\n  ],\n  \"permissions\": [\n{list}\n  ]\n}}\n"
    )
}

/// `ui/src/lib/commands.ts`: one typed wrapper per command, plus the
/// `Commands` map (name → arguments and answer) the dev mock is checked
/// against.
pub fn commands_ts(commands: &[Command]) -> String {
    let mut s = String::from(
        "// Generated from src-tauri's #[tauri::command] functions by src-tauri/wiring.rs.\n\
         // Do not edit: run `UPDATE_BINDINGS=1 cargo test -p shelfkeeper-desktop bindings`.\n\
         import { call } from './call';\n",
    );
    let mut all: Vec<&String> = commands.iter().flat_map(|c| &c.types).collect();
    all.sort();
    all.dedup();
    for t in all {
        let _ = writeln!(s, "import type {{ {t} }} from './bindings/{t}';");
    }
    s.push_str("\n/** Every command: the arguments the webview passes and what it answers. */\nexport type Commands = {\n");
    for c in commands {
        let args = c.args.iter().map(|(n, t)| format!("{}: {t}", camel(n))).collect::<Vec<_>>().join("; ");
        let args = if args.is_empty() { "Record<string, never>".to_string() } else { format!("{{ {args} }}") };
        let _ = writeln!(s, "  {}: {{ args: {args}; result: {} }};", c.name, c.result);
    }
    s.push_str("};\nexport type CommandName = keyof Commands;\n");
    for c in commands {
        s.push('\n');
        if !c.docs.is_empty() {
            if c.docs.len() == 1 {
                let _ = writeln!(s, "/** {} */", c.docs[0]);
            } else {
                s.push_str("/**\n");
                for line in &c.docs {
                    let _ = writeln!(s, " * {line}");
                }
                s.push_str(" */\n");
            }
        }
        let params = c.args.iter().map(|(n, t)| format!("{}: {t}", camel(n))).collect::<Vec<_>>().join(", ");
        let pass = if c.args.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", c.args.iter().map(|(n, _)| camel(n)).collect::<Vec<_>>().join(", "))
        };
        let _ = writeln!(s, "export const {} = ({params}) => call<{}>('{}'{pass});", camel(&c.name), c.result, c.name);
    }
    s
}
