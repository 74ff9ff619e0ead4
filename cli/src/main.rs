//! The `forge` command: argument parsing, tier choice, exit codes
//! (FORGE.md §12), and task dumps on SIGQUIT or `FORGE_DUMP_TASKS`
//! (`dump.rs`). Everything else lives in the `runtime` crate.
#![forbid(unsafe_code)]

mod dump;

use std::process::ExitCode;
use std::sync::Arc;

/// Tasks allocate on one worker and free on another; mimalloc handles that
/// pattern far better than the system allocator (see README, Performance).
/// It is built without transparent huge pages (`no_thp`), which would make
/// even `forge run hello.fg` hold several megabytes it never uses, and from
/// the v2 line, whose allocation path measured ~4% fewer instructions than
/// v3's on the `spawn` benchmark (callgrind) at the same RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use observability::LogFormat;

#[derive(Parser)]
#[command(name = "forge", version, about = "The Forge language runtime", propagate_version = true)]
struct Cli {
    /// Telemetry line format on stderr (filter with FORGE_LOG).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    log_format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program. Arguments after FILE reach the program (io.args()).
    Run {
        /// Run on the tree-walking interpreter.
        #[arg(long, group = "tier")]
        interp: bool,
        /// Run on the bytecode VM.
        #[arg(long, group = "tier")]
        vm: bool,
        /// Run on the VM with the JIT.
        #[arg(long, group = "tier")]
        jit: bool,
        /// Print VM figures on stderr at exit: instructions executed, GC
        /// collections, total and max pause, peak heap.
        #[arg(long)]
        stats: bool,
        /// Number of worker threads (default: FORGE_WORKERS or the number of cores).
        #[arg(long)]
        workers: Option<usize>,
        /// The program to run.
        file: String,
        /// Arguments for the program.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Parse and resolve a program without running it.
    Check { file: String },
    /// Print the bytecode the VM runs for a program, with source lines.
    Disasm { file: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    observability::init(match cli.log_format {
        Format::Text => LogFormat::Text,
        Format::Json => LogFormat::Json,
    });
    let code = match cli.command {
        Command::Run { interp, jit, stats, workers, file, args, .. } => {
            if jit {
                eprintln!("error: the --jit tier is not available yet in this version of forge; use --vm or --interp");
                return ExitCode::from(2);
            }
            let tier = if interp { runtime::run::Tier::Interp } else { runtime::run::Tier::Vm };
            run(&file, args, workers, tier, stats)
        }
        Command::Check { file } => check(&file),
        Command::Disasm { file } => disasm(&file),
    };
    ExitCode::from(code)
}

fn run(file: &str, args: Vec<String>, workers: Option<usize>, tier: runtime::run::Tier, stats: bool) -> u8 {
    // Before anything slow, so an early SIGQUIT does not end the process.
    let watcher = dump::Watcher::install();
    let plan = dump::Plan::from_env();
    let program = match runtime::program::load_file(file, args) {
        Ok(p) => p,
        Err(failure) => {
            eprint!("{}", failure.render());
            return 1;
        }
    };
    let mut config = runtime::run::RunConfig { tier, ..Default::default() };
    if let Some(w) = workers.filter(|&w| w > 0) {
        config.workers = w;
    }
    if stats {
        config.stats = Some(Default::default());
    }
    config.on_start = Some(runtime::run::StartHook(Arc::new(move |rt| watcher.attach(rt, plan))));
    let (code, sched) = runtime::run::run_with_stats(program, config.clone());
    match (&config.stats, tier) {
        (Some(s), runtime::run::Tier::Vm) => eprint!("{}{}", s.render(), sched.render()),
        (Some(_), _) => {
            eprintln!("{}(the interpreter has no garbage collector or instruction count; use --vm)", sched.render())
        }
        _ => {}
    }
    runtime::exit::run_hooks();
    code.clamp(0, 255) as u8
}

fn disasm(file: &str) -> u8 {
    let program = match runtime::program::load_file(file, Vec::new()) {
        Ok(p) => p,
        Err(failure) => {
            eprint!("{}", failure.render());
            return 1;
        }
    };
    match runtime::vm::compiler::compile_program(program) {
        Ok(vm) => {
            print!("{}", runtime::vm::bytecode::disasm::disassemble(vm.main, &program.sources));
            0
        }
        Err(e) => {
            eprint!("{}", runtime::syntax::diagnostic::render(&program.sources, &e.message, Some(e.span), &[]));
            1
        }
    }
}

fn check(file: &str) -> u8 {
    match runtime::program::load_file(file, Vec::new()) {
        Ok(_) => 0,
        Err(failure) => {
            eprint!("{}", failure.render());
            1
        }
    }
}
