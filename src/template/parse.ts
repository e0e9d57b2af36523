/**
 * Parser of Go `text/template` source, a port of `text/template/parse/parse.go` (Go 1.24):
 * same grammar, same three-token lookahead, same error wording. This file has the template
 * structure (define, if/with/range/else, block, template); `parse_expr.ts` the pipelines.
 * Parse errors read `template: NAME:LINE:COL: msg`, the column being what Go's `ErrorContext`
 * reports for execution errors (the byte offset in the line).
 *
 * @module
 */

import { goQuote } from "./escape.ts";
import { ITEM, type Item, Lexer } from "./lex.ts";
import type {
  BranchNode,
  DelimiterNode,
  ListNode,
  Node,
  PipeNode,
  TemplateNode,
  Tree,
} from "./nodes.ts";
import { ExprParser } from "./parse_expr.ts";

/** Parses `text` into its named trees: the top-level one called `name` plus every define. */
export function parseTrees(
  name: string,
  text: string,
  funcNames: ReadonlySet<string>,
): Map<string, Tree> {
  const lexer = new Lexer(text, {
    breakOK: !funcNames.has("break"),
    continueOK: !funcNames.has("continue"),
  });
  const treeSet = new Map<string, Tree>();
  const top = new TreeParser(name, name, lexer, funcNames, treeSet);
  top.parseTop();
  return treeSet;
}

/** Go's `IsEmptyTree`: only whitespace text (comments are never kept). */
function isEmptyTree(n: Node | null): boolean {
  if (n === null) return true;
  if (n.type === "list") return n.nodes.every(isEmptyTree);
  if (n.type === "text") return n.text.trim() === "";
  return false;
}

/** Parses one tree; defines and blocks get their own parser sharing the lexer. */
class TreeParser extends ExprParser {
  #name: string;
  #treeSet: Map<string, Tree>;
  #rangeDepth = 0;
  #root: ListNode | null = null;

  constructor(
    name: string,
    parseName: string,
    lex: Lexer,
    funcs: ReadonlySet<string>,
    treeSet: Map<string, Tree>,
  ) {
    super(parseName, lex, funcs);
    this.#name = name;
    this.#treeSet = treeSet;
  }

  #sub(name: string): TreeParser {
    return new TreeParser(name, this.parseName, this.lex, this.funcs, this.#treeSet);
  }

  #add(): void {
    const tree = this.#treeSet.get(this.#name);
    const root = this.#root!;
    if (tree === undefined || isEmptyTree(tree.root)) {
      this.#treeSet.set(this.#name, { name: this.#name, root });
      return;
    }
    if (!isEmptyTree(root)) {
      this.errorf(`template: multiple definition of template ${goQuote(this.#name)}`);
    }
  }

  /** Go's `parse` + `add`: the top-level template, with `{{define}}` allowed. */
  parseTop(): void {
    this.#root = { type: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== ITEM.EOF) {
      if (this.peek().typ === ITEM.LEFT_DELIM) {
        const delim = this.next();
        if (this.nextNonSpace().typ === ITEM.DEFINE) {
          this.#sub("definition").#parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.#textOrAction();
      if (n.type === "end" || n.type === "else") this.errorf(`unexpected {{${n.type}}}`);
      this.#root.nodes.push(n);
    }
    this.#add();
  }

  #parseDefinition(): void {
    const context = "define clause";
    const token = this.nextNonSpace();
    if (token.typ !== ITEM.STRING && token.typ !== ITEM.RAW_STRING) {
      this.unexpected(token, context);
    }
    this.#name = this.unquote(token.val);
    this.expect(ITEM.RIGHT_DELIM, context);
    const [list, end] = this.#itemList();
    this.#root = list;
    if (end.type !== "end") this.errorf(`unexpected {{${end.type}}} in ${context}`);
    this.#add();
  }

  #itemList(): [ListNode, DelimiterNode] {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== ITEM.EOF) {
      const n = this.#textOrAction();
      if (n.type === "end" || n.type === "else") return [list, n];
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  #textOrAction(): Node {
    const token = this.nextNonSpace();
    if (token.typ === ITEM.TEXT) return { type: "text", pos: token.pos, text: token.val };
    if (token.typ === ITEM.LEFT_DELIM) {
      this.actionPos = token.pos;
      try {
        return this.#action();
      } finally {
        this.actionPos = -1;
      }
    }
    this.unexpected(token, "input");
  }

  #action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case ITEM.BLOCK:
        return this.#blockControl();
      case ITEM.BREAK:
      case ITEM.CONTINUE:
        return this.#loopControl(token);
      case ITEM.ELSE:
        return this.#elseControl();
      case ITEM.END:
        return { type: "end", pos: this.expect(ITEM.RIGHT_DELIM, "end").pos };
      case ITEM.IF:
        return this.#parseControl("if");
      case ITEM.RANGE:
        return this.#parseControl("range");
      case ITEM.TEMPLATE:
        return this.#templateControl();
      case ITEM.WITH:
        return this.#parseControl("with");
    }
    this.backup();
    const pos = this.peek().pos;
    return { type: "action", pos, pipe: this.pipeline("command", ITEM.RIGHT_DELIM) };
  }

  #loopControl(keyword: Item): Node {
    const type = keyword.typ === ITEM.BREAK ? "break" : "continue";
    const token = this.nextNonSpace();
    if (token.typ !== ITEM.RIGHT_DELIM) this.unexpected(token, `{{${type}}}`);
    if (this.#rangeDepth === 0) this.errorf(`{{${type}}} outside {{range}}`);
    return { type, pos: keyword.pos };
  }

  #parseControl(context: "if" | "range" | "with"): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, ITEM.RIGHT_DELIM);
      if (context === "range") this.#rangeDepth++;
      const [list, next] = this.#itemList();
      if (context === "range") this.#rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === "else") {
        const chained = (context === "if" && this.peek().typ === ITEM.IF) ||
          (context === "with" && this.peek().typ === ITEM.WITH);
        if (chained) {
          this.next();
          elseList = { type: "list", pos: next.pos, nodes: [this.#parseControl(context)] };
        } else {
          let end: DelimiterNode;
          [elseList, end] = this.#itemList();
          if (end.type !== "end") this.errorf(`expected end; found {{${end.type}}}`);
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  #elseControl(): DelimiterNode {
    const peek = this.peekNonSpace();
    if (peek.typ === ITEM.IF || peek.typ === ITEM.WITH) return { type: "else", pos: peek.pos };
    return { type: "else", pos: this.expect(ITEM.RIGHT_DELIM, "else").pos };
  }

  #blockControl(): TemplateNode {
    const context = "block clause";
    const token = this.nextNonSpace();
    const name = this.#parseTemplateName(token, context);
    const pipe = this.pipeline(context, ITEM.RIGHT_DELIM);
    const block = this.#sub(name);
    const [list, end] = block.#itemList();
    block.#root = list;
    if (end.type !== "end") this.errorf(`unexpected {{${end.type}}} in ${context}`);
    block.#add();
    return { type: "template", pos: token.pos, name, pipe };
  }

  #templateControl(): TemplateNode {
    const context = "template clause";
    const token = this.nextNonSpace();
    const name = this.#parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== ITEM.RIGHT_DELIM) {
      this.backup();
      pipe = this.pipeline(context, ITEM.RIGHT_DELIM);
    }
    return { type: "template", pos: token.pos, name, pipe };
  }

  #parseTemplateName(token: Item, context: string): string {
    if (token.typ !== ITEM.STRING && token.typ !== ITEM.RAW_STRING) {
      this.unexpected(token, context);
    }
    return this.unquote(token.val);
  }
}
