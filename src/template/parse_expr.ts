/**
 * Pipeline parsing for templates, from Go's `text/template/parse/parse.go` (Go 1.24): the
 * three-token lookahead, error reporting, and pipelines, commands and operands. `parse.ts`
 * builds the control structures on top.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import { goQuote } from "./escape.ts";
import { ITEM, type Item, type ItemType, type Lexer } from "./lex.ts";
import { parseNumber, unquote } from "./literal.ts";
import { location } from "./location.ts";
import type { ArgNode, CommandNode, PipeNode, VariableNode } from "./nodes.ts";

function itemString(i: Item): string {
  if (i.typ === ITEM.EOF) return "EOF";
  if (i.typ === ITEM.ERROR) return i.val;
  if (i.typ > ITEM.KEYWORD) return `<${i.val}>`;
  if ([...i.val].length > 10) return goQuote([...i.val].slice(0, 10).join("")) + "...";
  return goQuote(i.val);
}

const OPERAND_START: ReadonlySet<ItemType> = new Set<ItemType>([
  ITEM.BOOL,
  ITEM.CHAR_CONSTANT,
  ITEM.COMPLEX,
  ITEM.DOT,
  ITEM.FIELD,
  ITEM.IDENTIFIER,
  ITEM.NUMBER,
  ITEM.NIL,
  ITEM.RAW_STRING,
  ITEM.STRING,
  ITEM.VARIABLE,
  ITEM.LEFT_PAREN,
]);

function nodeText(n: ArgNode): string {
  switch (n.type) {
    case "bool":
      return String(n.value);
    case "string":
      return n.quoted;
    case "number":
      return n.text;
    case "nil":
      return "nil";
    default:
      return ".";
  }
}

/** Deepest parenthesis nesting (newer Go allows 10000; a JS stack runs out sooner). */
const MAX_STACK_DEPTH = 1000;

/** Token handling and pipeline grammar shared by every tree's parser. */
export class ExprParser {
  protected readonly parseName: string;
  protected readonly lex: Lexer;
  protected readonly funcs: ReadonlySet<string>;
  protected vars: string[] = ["$"];
  /** Where the action being parsed started, for "in action started at" (-1: none). */
  protected actionPos = -1;
  #token: Item[] = [];
  #peekCount = 0;
  #stackDepth = 0;

  constructor(parseName: string, lex: Lexer, funcs: ReadonlySet<string>) {
    this.parseName = parseName;
    this.lex = lex;
    this.funcs = funcs;
  }

  protected next(): Item {
    if (this.#peekCount > 0) this.#peekCount--;
    else this.#token[0] = this.lex.nextItem();
    return this.#token[this.#peekCount]!;
  }

  protected backup(): void {
    this.#peekCount++;
  }

  protected backup2(t1: Item): void {
    this.#token[1] = t1;
    this.#peekCount = 2;
  }

  protected backup3(t2: Item, t1: Item): void {
    this.#token[1] = t1;
    this.#token[2] = t2;
    this.#peekCount = 3;
  }

  protected peek(): Item {
    if (this.#peekCount > 0) return this.#token[this.#peekCount - 1]!;
    this.#peekCount = 1;
    this.#token[0] = this.lex.nextItem();
    return this.#token[0];
  }

  protected nextNonSpace(): Item {
    let token: Item;
    do token = this.next(); while (token.typ === ITEM.SPACE);
    return token;
  }

  protected peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  protected errorf(message: string): never {
    const pos = this.#token[0]?.pos ?? 0;
    const loc = location(this.lex.input, pos);
    throw new TemplateError(
      `template: ${this.parseName}:${loc.line}:${loc.byteColumn}: ${message}`,
      { templateName: this.parseName, line: loc.line, column: loc.column },
    );
  }

  protected expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  protected unexpected(token: Item, context: string): never {
    if (token.typ === ITEM.ERROR) {
      let extra = "";
      const line = location(this.lex.input, token.pos).line;
      const actionLine = this.actionPos < 0 ? 0 : location(this.lex.input, this.actionPos).line;
      if (actionLine !== 0 && actionLine !== line) {
        extra = ` in action started at ${this.parseName}:${actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  protected unquote(quoted: string): string {
    try {
      return unquote(quoted);
    } catch (e) {
      return this.errorf((e as Error).message);
    }
  }

  protected pipeline(context: string, end: ItemType): PipeNode {
    const pipe: PipeNode = {
      type: "pipe",
      pos: this.peekNonSpace().pos,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    this.#declarations(pipe, context);
    for (;;) {
      const token = this.nextNonSpace();
      if (token.typ === end) {
        this.#checkPipeline(pipe, context);
        return pipe;
      }
      if (!OPERAND_START.has(token.typ)) this.unexpected(token, context);
      this.backup();
      pipe.cmds.push(this.#command());
    }
  }

  #declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== ITEM.VARIABLE) return;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === ITEM.ASSIGN || next.typ === ITEM.DECLARE) {
        pipe.isAssign = next.typ === ITEM.ASSIGN;
        this.nextNonSpace();
        pipe.decl.push(this.#newVariable(v.pos, v.val));
        this.vars.push(v.val);
        return;
      }
      if (next.typ === ITEM.CHAR && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push(this.#newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const t = this.peekNonSpace().typ;
          if (t === ITEM.VARIABLE || t === ITEM.RIGHT_DELIM || t === ITEM.RIGHT_PAREN) continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      if (tokenAfterVariable.typ === ITEM.SPACE) this.backup3(v, tokenAfterVariable);
      else this.backup2(v);
      return;
    }
  }

  #checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === "bool" || t === "dot" || t === "nil" || t === "number" || t === "string") {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  #command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.#operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === ITEM.SPACE) continue;
      if (token.typ === ITEM.RIGHT_DELIM || token.typ === ITEM.RIGHT_PAREN) this.backup();
      else if (token.typ !== ITEM.PIPE) this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  #operand(): ArgNode | null {
    const node = this.#term();
    if (node === null || this.peek().typ !== ITEM.FIELD) return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().typ === ITEM.FIELD) fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.errorf(`unexpected . after term ${goQuote(nodeText(node))}`);
    }
    return { type: "chain", pos, node, field: fields };
  }

  #term(): ArgNode | null {
    const token = this.nextNonSpace();
    const pos = token.pos;
    switch (token.typ) {
      case ITEM.IDENTIFIER:
        if (!this.funcs.has(token.val)) this.errorf(`function ${goQuote(token.val)} not defined`);
        return { type: "identifier", pos, ident: token.val };
      case ITEM.DOT:
        return { type: "dot", pos };
      case ITEM.NIL:
        return { type: "nil", pos };
      case ITEM.VARIABLE:
        return this.#useVar(pos, token.val);
      case ITEM.FIELD:
        return { type: "field", pos, ident: token.val.slice(1).split(".") };
      case ITEM.BOOL:
        return { type: "bool", pos, value: token.val === "true" };
      case ITEM.CHAR_CONSTANT:
      case ITEM.COMPLEX:
      case ITEM.NUMBER:
        try {
          return { type: "number", pos, text: token.val, ...parseNumber(token.val, token.typ) };
        } catch (e) {
          return this.errorf((e as Error).message);
        }
      case ITEM.LEFT_PAREN:
        if (this.#stackDepth >= MAX_STACK_DEPTH) this.errorf("max expression depth exceeded");
        this.#stackDepth++;
        try {
          return this.pipeline("parenthesized pipeline", ITEM.RIGHT_PAREN);
        } finally {
          this.#stackDepth--;
        }
      case ITEM.STRING:
      case ITEM.RAW_STRING:
        return { type: "string", pos, quoted: token.val, text: this.unquote(token.val) };
    }
    this.backup();
    return null;
  }

  #newVariable(pos: number, name: string): VariableNode {
    return { type: "variable", pos, ident: name.split(".") };
  }

  #useVar(pos: number, name: string): VariableNode {
    const v = this.#newVariable(pos, name);
    if (!this.vars.includes(v.ident[0]!)) {
      this.errorf(`undefined variable ${goQuote(v.ident[0]!)}`);
    }
    return v;
  }
}
