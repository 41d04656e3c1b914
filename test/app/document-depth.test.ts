/*
 * JSON.parse recurses on the XS stack: a retained config document nested deeply enough overflows it, an
 * abort no try/catch sees, on every boot while the document stays retained (seen in mcsim with 500 levels
 * in 1 KB). Documents are refused before they reach JSON.parse.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_DOCUMENT_DEPTH, nestsAtMost, validateDocument } from "../../src/app/settings";

test("nesting is counted over arrays and objects, and brackets inside strings do not count", () => {
	assert.ok(nestsAtMost(`{"unit": "F"}`, 1));
	assert.ok(!nestsAtMost(`{"a": [1]}`, 1));
	assert.ok(nestsAtMost(`{"a": [1]}`, 2));
	assert.ok(nestsAtMost(`{"a": "[[[{{{", "b": "\\"[[["}`, 1));
	assert.ok(nestsAtMost(`[]{}[]{}`, 1), "siblings do not add up");
	assert.ok(!nestsAtMost(`{"a": {"b": {"c": 1}}}`, 2));
});

test("a 1 KB document of nested brackets is rejected with a clear error before JSON.parse sees it", () => {
	const deep = "[".repeat(512) + "]".repeat(512);
	assert.deepEqual(validateDocument(deep).errors, [`nested deeper than ${MAX_DOCUMENT_DEPTH} levels`]);
	const object = `{"interval": ${'{"a": '.repeat(100)}1${"}".repeat(100)}}`;
	assert.deepEqual(validateDocument(object).errors, [`nested deeper than ${MAX_DOCUMENT_DEPTH} levels`]);
});

test("a document within the depth is validated as usual", () => {
	assert.deepEqual(validateDocument(`{"interval": [[[1]]]}`).errors, ["interval: must be an integer from 1 to 86400 (got [[[1]]])"]);
	assert.equal(validateDocument(`{"interval": 30}`).settings?.interval, 30);
});
