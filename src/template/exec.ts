/**
 * Executor of parsed templates, the `walk*` half of Go's `text/template/exec.go` (Go 1.24):
 * text, actions, if/with/range (with break/continue and else), and template calls. Expression
 * evaluation lives in `eval.ts`.
 *
 * @module
 */

import { Evaluator } from "./eval.ts";
import { goQuote } from "./escape.ts";
import { sprint } from "./format.ts";
import type { FuncSpec } from "./funcs.ts";
import { type BranchNode, type Node, nodeString, type TemplateNode, type Tree } from "./nodes.ts";
import { isMap, isTrue, sortedKeys, type Value } from "./value.ts";
import type { RenderBudget } from "./budget.ts";

/** Deepest `{{template}}` nesting; Go allows 100000, far beyond what a JS stack holds. */
export const MAX_EXEC_DEPTH = 1000;

/** What a walk tells its enclosing range. */
enum Flow {
  Normal,
  Break,
  Continue,
}

/** Everything an execution needs that does not change while it runs. */
export interface ExecContext {
  text: string;
  parseName: string;
  trees: ReadonlyMap<string, Tree>;
  funcs: ReadonlyMap<string, FuncSpec>;
  /** What the rendering may cost; it stops with a `TemplateBudgetError` past it. */
  budget: RenderBudget;
}

/** Runs the tree named `name` against `data` and returns the output. */
export function executeTree(ctx: ExecContext, name: string, data: unknown): string {
  const tree = ctx.trees.get(name)!;
  const dot = (data ?? undefined) as Value;
  const ev = new Evaluator(ctx.text, ctx.parseName, ctx.funcs, tree, dot, ctx.budget);
  const walker = new Walker(ctx, ev);
  walker.walk(dot, tree.root);
  return walker.output;
}

class Walker {
  output = "";
  #ctx: ExecContext;
  #ev: Evaluator;
  #depth = 0;
  #maxOutput: number;

  constructor(ctx: ExecContext, ev: Evaluator) {
    this.#ctx = ctx;
    this.#ev = ev;
    this.#maxOutput = ctx.budget.output;
  }

  /** Appends to the output, stopping the rendering once it is over the output cap. */
  #write(text: string): void {
    this.output += text;
    if (this.output.length > this.#maxOutput) this.#ev.overBudget("output", this.#maxOutput);
  }

  #pop(mark: number): void {
    this.#ev.vars.length = mark;
  }

  walk(dot: Value, node: Node): Flow {
    this.#ev.node = node;
    this.#ev.count();
    switch (node.type) {
      case "action": {
        const val = this.#ev.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.#printValue(node, val);
        return Flow.Normal;
      }
      case "break":
        return Flow.Break;
      case "continue":
        return Flow.Continue;
      case "if":
      case "with":
        return this.#walkIfOrWith(dot, node);
      case "list":
        for (const n of node.nodes) {
          const flow = this.walk(dot, n);
          if (flow !== Flow.Normal) return flow;
        }
        return Flow.Normal;
      case "range":
        return this.#walkRange(dot, node);
      case "template":
        this.#walkTemplate(dot, node);
        return Flow.Normal;
      case "text":
        this.#write(node.text);
        return Flow.Normal;
    }
    return this.#ev.errorf(`unknown node: ${nodeString(node)}`);
  }

  #walkScoped(dot: Value, dotIface: boolean, node: Node): Flow {
    const saved = this.#ev.dotIface;
    this.#ev.dotIface = dotIface;
    try {
      return this.walk(dot, node);
    } finally {
      this.#ev.dotIface = saved;
    }
  }

  #walkIfOrWith(dot: Value, node: BranchNode): Flow {
    const mark = this.#ev.vars.length;
    try {
      const val = this.#ev.evalPipeline(dot, node.pipe);
      if (isTrue(val)) {
        return node.type === "with"
          ? this.#walkScoped(val, false, node.list)
          : this.walk(dot, node.list);
      }
      return node.elseList ? this.walk(dot, node.elseList) : Flow.Normal;
    } finally {
      this.#pop(mark);
    }
  }

  #walkRange(dot: Value, r: BranchNode): Flow {
    this.#ev.node = r;
    const outer = this.#ev.vars.length;
    try {
      const val = this.#ev.evalPipeline(dot, r.pipe);
      const mark = this.#ev.vars.length;
      const decl = r.pipe.decl;
      const oneIteration = (index: Value, elem: Value, elemIface: boolean): boolean => {
        if (decl.length > 0) {
          if (!r.pipe.isAssign) this.#ev.setTopVar(1, elem, elemIface);
          else if (decl.length > 1) this.#ev.setVar(decl[0]!.ident[0]!, index);
          else this.#ev.setVar(decl[0]!.ident[0]!, elem, elemIface);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.#ev.setVar(decl[1]!.ident[0]!, elem, elemIface);
          else this.#ev.setTopVar(2, index, false);
        }
        try {
          return this.#walkScoped(elem, elemIface, r.list) === Flow.Break;
        } finally {
          this.#pop(mark);
        }
      };
      if (typeof val === "bigint") {
        if (decl.length > 1) {
          this.#ev.errorf(`can't use ${sprint([val])} to iterate over more than one variable`);
        }
        if (val > 0n) {
          for (let i = 0n; i < val; i++) if (oneIteration(undefined, i, false)) break;
          return Flow.Normal;
        }
      } else if (Array.isArray(val)) {
        if (val.length > 0) {
          for (let i = 0; i < val.length; i++) {
            if (oneIteration(BigInt(i), val[i] ?? null, true)) break;
          }
          return Flow.Normal;
        }
      } else if (isMap(val)) {
        const keys = sortedKeys(val);
        if (keys.length > 0) {
          for (const key of keys) if (oneIteration(key, val[key] ?? null, true)) break;
          return Flow.Normal;
        }
      } else if (val !== undefined) {
        this.#ev.errorf(`range can't iterate over ${sprint([val])}`);
      }
      return r.elseList ? this.walk(dot, r.elseList) : Flow.Normal;
    } finally {
      this.#pop(outer);
    }
  }

  #walkTemplate(dot: Value, t: TemplateNode): void {
    this.#ev.node = t;
    const tree = this.#ctx.trees.get(t.name);
    if (tree === undefined) this.#ev.errorf(`template ${goQuote(t.name)} not defined`);
    if (this.#depth === MAX_EXEC_DEPTH) {
      this.#ev.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    }
    const newDot = this.#ev.evalPipeline(dot, t.pipe);
    const ev = this.#ev;
    const saved = { tree: ev.tree, vars: ev.vars, iface: ev.dotIface };
    ev.tree = tree;
    ev.vars = [{ name: "$", value: newDot, iface: false }];
    this.#ev.dotIface = false;
    this.#depth++;
    try {
      this.walk(newDot, tree.root);
    } finally {
      this.#depth--;
      ev.tree = saved.tree;
      ev.vars = saved.vars;
      this.#ev.dotIface = saved.iface;
    }
  }

  #printValue(node: Node, v: Value): void {
    this.#ev.node = node;
    this.#write(v === undefined ? "<no value>" : sprint([v]));
  }
}
