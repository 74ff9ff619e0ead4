//! Calls, returns, method dispatch, natives, callbacks, and unwinding to
//! an error handler.

use arcstr::ArcStr;
use smallvec::SmallVec;

use super::{Exit, Frame, FrameKind, Machine};
use crate::builtins::{registry, NativeFn};
use crate::error::{msg, Ctrl, EvalResult, Unwind, MAX_TRACE};
use crate::value::Value;
use crate::vm::bytecode::chunk::{Const, Proto};
use crate::vm::gc::heap::{EnumObj, HeapObj};
use crate::vm::value::{ObjRef, Val};

/// A callback runs the dispatch loop on the native stack; when less than
/// this is left, the loop continues on a new stack segment (`stacker`), so
/// recursion through `map` & co. is bounded by `FORGE_MAX_DEPTH` only.
const CALLBACK_RED_ZONE: usize = 256 * 1024;
const CALLBACK_STACK_SEGMENT: usize = 4 * 1024 * 1024;

impl Machine {
    /// Name `k` of a chunk's name table (fields, methods, variants).
    #[inline]
    pub(crate) fn name(proto: &'static Proto, k: usize) -> &'static ArcStr {
        &proto.names[k]
    }

    /// The string constant `k` of a chunk.
    pub(crate) fn name_const(proto: &'static Proto, k: usize) -> &'static ArcStr {
        match &proto.consts[k] {
            Const::Str(s) => s,
            _ => unreachable!("name constants are strings"),
        }
    }

    /// Calls `R[a]` with the `argc` values after it. `Ok(true)` when a
    /// frame was pushed (the loop must reload), `Ok(false)` when the result
    /// is already in `R[a]`.
    pub(crate) fn op_call(&mut self, a: usize, argc: usize, _mark_args: bool) -> Result<bool, Ctrl> {
        match self.regs[a] {
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Closure(c) => {
                    let proto = c.proto;
                    self.push_frame(proto, Some(r), a + 1, argc, a)?;
                    Ok(true)
                }
                HeapObj::Variant(v) => {
                    if argc != v.arity {
                        return Err(msg::arity(&v.variant, v.arity, v.arity, argc));
                    }
                    let (enum_name, variant) = (v.enum_name.clone(), v.variant.clone());
                    let payload: Box<[Val]> = self.regs[a + 1..a + 1 + argc].to_vec().into_boxed_slice();
                    payload.iter().for_each(|v| self.share(*v));
                    let e = self.heap.alloc(HeapObj::Enum(Box::new(EnumObj { enum_name, variant, payload })))?;
                    self.regs[a] = Val::Obj(e);
                    Ok(false)
                }
                _ => Err(msg::not_callable(self.type_name(self.regs[a]))),
            },
            Val::Native(n) => {
                let v = self.call_native(n, a + 1, argc)?;
                self.regs[a] = v;
                Ok(false)
            }
            other => Err(msg::not_callable(self.type_name(other))),
        }
    }

    /// Pushes a frame for `proto` whose `argc` arguments are in the
    /// registers from `base`; its result will go to register `ret`.
    pub(crate) fn push_frame(
        &mut self,
        proto: &'static Proto,
        closure: Option<ObjRef>,
        base: usize,
        argc: usize,
        ret: usize,
    ) -> Result<(), Ctrl> {
        let (nparams, required) = (proto.nparams as usize, proto.required as usize);
        if argc < required || argc > nparams {
            return Err(msg::arity(&proto.name, required, nparams, argc));
        }
        if self.frames.len() >= self.frame_limit {
            return Err(msg::stack_overflow());
        }
        // The callee may change its parameters: they must not show through
        // the caller's variables (see "Sharing" in compiler/mod.rs).
        for i in base..base + argc {
            self.share(self.regs[i]);
        }
        let end = base + proto.nregs as usize + 1;
        if self.regs.len() < end {
            self.regs.resize(end, Val::Null);
        }
        self.regs[base + argc..end].fill(Val::Null);
        let pc =
            if argc < nparams { proto.default_starts[argc - required] as usize } else { proto.body_start as usize };
        self.frames.push(Frame { proto, pc, base, closure, ret, kind: FrameKind::Call });
        Ok(())
    }

    /// Pops the returning frame. `Some(v)` when the run that started at
    /// frame `stop` is over.
    pub(crate) fn op_return(&mut self, v: Val, stop: usize) -> Option<Val> {
        let f = self.frames.pop().expect("a frame returns");
        if let FrameKind::Import(def) = f.kind {
            for (src, dst) in def.bindings {
                let v = match self.global(*src as usize) {
                    Some(v) => Some(v),
                    // A failed import of an inherited value leaves it undefined.
                    None => self.inherited_global(*src as usize).ok().flatten(),
                };
                self.set_global(*dst as usize, v);
            }
            self.globals_version += 1;
        }
        self.end_squads_from(self.frames.len());
        if self.frames.len() == stop {
            return Some(v);
        }
        if let FrameKind::Call = f.kind {
            self.regs[f.ret] = v;
        }
        None
    }

    /// Calls a native with the `argc` values in the registers from `first`.
    pub(crate) fn call_native(&mut self, n: &'static NativeFn, first: usize, argc: usize) -> EvalResult<Val> {
        if let Some(f) = self.frames.last() {
            self.span = f.proto.spans[f.pc.saturating_sub(1)];
        }
        if let Some(r) = self.intrinsic(n, first, argc) {
            return r;
        }
        let (roots, exported) = (self.rare.native_roots.len(), self.rare.exported.len());
        let mut args: SmallVec<[Value; 4]> = SmallVec::with_capacity(argc);
        for i in first..first + argc {
            let v = self.export(self.regs[i])?;
            args.push(v);
        }
        let r = n.call(self, &mut args);
        if !matches!(&r, Err(c) if c.is_blocked()) {
            self.end_blocking_call();
        }
        let out = match r {
            Ok(v) => self.import(&v),
            Err(e) => Err(e),
        };
        drop(args);
        if let Some(rare) = self.rare.written() {
            rare.native_roots.truncate(roots);
            rare.exported.truncate(exported);
        }
        out
    }

    /// Runs a Forge function value from inside a native (a callback of
    /// `map`, `sort`, …) to completion, on the native's stack.
    pub(crate) fn callback(&mut self, f: Val, args: &[Val]) -> EvalResult<Val> {
        if self.frames.len() >= self.frame_limit {
            return Err(msg::stack_overflow());
        }
        let top = match self.frames.last() {
            Some(fr) => fr.base + fr.proto.nregs as usize + 1,
            None => self.regs.len(),
        };
        let w = top;
        let end = w + 1 + args.len();
        if self.regs.len() < end {
            self.regs.resize(end, Val::Null);
        }
        self.regs[w] = f;
        self.regs[w + 1..end].copy_from_slice(args);
        let stop = self.frames.len();
        if !self.op_call(w, args.len(), true)? {
            return Ok(self.regs[w]);
        }
        self.callbacks += 1;
        let r = loop {
            match stacker::maybe_grow(CALLBACK_RED_ZONE, CALLBACK_STACK_SEGMENT, || self.run(stop)) {
                Ok(Exit::Returned(v)) => break Ok(v),
                Ok(Exit::Yielded) => continue,
                Ok(Exit::Blocked(_)) => {
                    self.frames.truncate(stop);
                    break Err(Ctrl::runtime(
                        "a function called by a built-in (map, filter, sort, …) cannot wait on the VM tier; \
                         use a loop, or run with --interp",
                    ));
                }
                Err(e) => break Err(e),
            }
        };
        self.callbacks -= 1;
        r
    }

    /// `recv.name(args)`: receiver in `R[a+1]`, arguments after it.
    pub(crate) fn op_call_method(
        &mut self,
        proto: &'static Proto,
        a: usize,
        argc: usize,
        k: usize,
    ) -> Result<bool, Ctrl> {
        let name = Self::name(proto, k);
        let recv = self.regs[a + 1];
        if let Some((f, receiver)) = self.find_method(recv, name) {
            self.regs[a] = f;
            match receiver {
                Some(r) => {
                    self.regs[a + 1] = r;
                    return self.op_call(a, argc + 1, true);
                }
                // A module function: a native is called on the arguments in
                // place, because a blocking one (`time.sleep`) re-runs this
                // instruction when it resumes and must find them unchanged.
                None => {
                    if let Val::Native(n) = f {
                        let v = self.call_native(n, a + 2, argc)?;
                        self.regs[a] = v;
                        return Ok(false);
                    }
                    self.regs.copy_within(a + 2..a + 2 + argc, a + 1);
                    return self.op_call(a, argc, true);
                }
            }
        }
        if let Some(n) = registry().method(name) {
            let v = self.call_native(n, a + 1, argc + 1)?;
            self.regs[a] = v;
            return Ok(false);
        }
        Err(self.no_method(recv, name))
    }

    /// `push`/`pop` on a place whose (unshared) container is in `R[a+1]`.
    pub(crate) fn op_call_place(
        &mut self,
        proto: &'static Proto,
        a: usize,
        argc: usize,
        k: usize,
    ) -> Result<bool, Ctrl> {
        let name = Self::name(proto, k);
        let recv = self.regs[a + 1];
        if let Val::Obj(r) = recv {
            if let HeapObj::Array(_) = self.heap.get(r) {
                match (name.as_str(), argc) {
                    ("push", 1) => {
                        let v = self.regs[a + 2];
                        self.share(v);
                        if let HeapObj::Array(arr) = self.heap.get_mut(r) {
                            arr.items.push(v);
                        }
                        self.heap.grew(std::mem::size_of::<Val>());
                        self.regs[a] = recv;
                        return Ok(false);
                    }
                    ("pop", 0) => {
                        let v = match self.heap.get_mut(r) {
                            HeapObj::Array(arr) => arr.items.pop().unwrap_or(Val::Null),
                            _ => Val::Null,
                        };
                        self.regs[a] = v;
                        return Ok(false);
                    }
                    _ => {}
                }
            }
        }
        if self.find_method(recv, name).is_some() {
            return self.op_call_method(proto, a, argc, k);
        }
        let n = registry().native(name).ok_or_else(|| self.no_method(recv, name))?;
        let v = self.call_native(n, a + 1, argc + 1)?;
        self.regs[a] = v;
        Ok(false)
    }

    pub(crate) fn no_method(&self, recv: Val, name: &str) -> Ctrl {
        let type_name = match recv {
            Val::Obj(r) => match self.heap.get(r) {
                HeapObj::Object(o) => o.tag.as_deref().unwrap_or("Object").to_string(),
                HeapObj::Enum(e) => e.enum_name.to_string(),
                _ => self.type_name(recv).to_string(),
            },
            _ => self.type_name(recv).to_string(),
        };
        Ctrl::runtime(format!("no method '{name}' on {type_name}"))
    }

    /// A user-defined method (or function-valued field) that `recv.name`
    /// names, with the receiver to pass first (`None`: fields and static
    /// methods take no receiver).
    pub(crate) fn find_method(&self, recv: Val, name: &str) -> Option<(Val, Option<Val>)> {
        let Val::Obj(r) = recv else { return None };
        match self.heap.get(r) {
            HeapObj::Object(o) => {
                if let Some(&v) = o.fields.get(name) {
                    if self.is_callable(v) {
                        return Some((v, None));
                    }
                }
                let tag = o.tag.as_ref()?;
                if let Some(m) = self.types.method(tag, name) {
                    return Some((m, Some(recv)));
                }
                let info = self.types.structs.get(tag)?;
                info.fields.iter().filter(|f| f.embedded).find_map(|f| {
                    let inner = *o.fields.get(&f.name)?;
                    self.find_method(inner, name)
                })
            }
            HeapObj::Enum(e) => self.types.method(&e.enum_name, name).map(|m| (m, Some(recv))),
            HeapObj::Type(t) => self.types.method(&t.name, name).map(|m| (m, None)),
            _ => None,
        }
    }

    pub(crate) fn is_callable(&self, v: Val) -> bool {
        match v {
            Val::Native(_) => true,
            Val::Obj(r) => matches!(self.heap.get(r), HeapObj::Closure(_) | HeapObj::Variant(_)),
            _ => false,
        }
    }

    /// After an error: finds the innermost handler in the frames of this run
    /// (from the top down to `stop`), or pops them all and returns the error.
    /// `Ok(Some(exit))` when the "error" is a request to block.
    #[inline(never)]
    pub(crate) fn unwind(&mut self, c: Ctrl, stop: usize) -> Result<Option<Exit>, Ctrl> {
        let mut c = c;
        match &mut *c.0 {
            Unwind::Blocked(_) => return c.into_wait().map(|why| Some(Exit::Blocked(why))),
            Unwind::Error(e) if e.span.is_none() => {
                if let Some(f) = self.frames.last() {
                    e.span = f.proto.spans.get(f.pc).copied();
                }
            }
            _ => {}
        }
        self.end_blocking_call();
        let catchable = c.is_error();
        let mut top = true;
        while self.frames.len() > stop {
            let fi = self.frames.len() - 1;
            let f = &self.frames[fi];
            let pc = if top { f.pc } else { f.pc.saturating_sub(1) };
            top = false;
            if catchable {
                if let Some(h) = f.proto.handler_at(pc).copied() {
                    let base = f.base;
                    self.frames[fi].pc = h.target as usize;
                    self.end_squads_from(fi + 1);
                    if let Some(r) = h.error_reg {
                        let Unwind::Error(e) = &*c.0 else { unreachable!("catchable") };
                        let obj = self.error_object(e)?;
                        self.regs[base + r as usize] = obj;
                    }
                    return Ok(None);
                }
            }
            let popped = self.frames.pop().expect("checked");
            if let (Unwind::Error(e), Some(caller)) = (&mut *c.0, self.frames.last()) {
                if e.trace.len() < MAX_TRACE {
                    let span = caller.proto.spans.get(caller.pc.saturating_sub(1)).copied().unwrap_or_default();
                    e.trace.push((popped.proto.name.clone(), span));
                }
            }
        }
        self.end_squads_from(self.frames.len());
        Err(c)
    }
}
