// JSON.parse keeps the last of two equal keys without a word, so a policy with two "alice" entries or
// two "timezone" fields would serve something its author never saw. Found with jsonc-parser (the
// parser VS Code uses for settings), whose visitor reports every property with its position.
import { visit } from "jsonc-parser";
import { formatJsonPath } from "./json-path.js";
import type { PolicyProblem } from "./types.js";

/** One problem per repeated key, at its JSON path, naming where both occurrences are. */
export function duplicateKeyProblems(text: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  // Per open object: key → where it first appeared (1-based line and column).
  const open: Array<Map<string, { line: number; column: number }>> = [];
  visit(
    text,
    {
      onObjectBegin: () => void open.push(new Map()),
      onObjectEnd: () => void open.pop(),
      onObjectProperty: (property, _offset, _length, startLine, startCharacter, pathSupplier) => {
        const keys = open.at(-1);
        if (!keys) return;
        const here = { line: startLine + 1, column: startCharacter + 1 };
        const first = keys.get(property);
        if (first === undefined) {
          keys.set(property, here);
          return;
        }
        problems.push({
          path: formatJsonPath([...pathSupplier(), property]),
          message: `duplicate key "${property}" at line ${here.line}, column ${here.column} (first at line ${first.line}, column ${first.column}); JSON would keep only the last, so remove one`,
        });
      },
    },
    { disallowComments: true },
  );
  return problems;
}
