import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseInteger,
  parseList,
  parseNumber,
  type ParseResult,
} from '../../src/config/values.js';

function value<T>(result: ParseResult<T>): T {
  assert.ok(result.ok, `expected success, got ${result.ok ? '' : result.reason}`);
  return result.value;
}
function reason<T>(result: ParseResult<T>): string {
  assert.ok(!result.ok, 'expected a failure');
  return result.reason;
}

test('booleans accept every IDOL spelling of true, plus yes, in any case', () => {
  for (const s of ['TRUE', 'true', 'True', 'ON', 'on', 'Y', 'y', '1', 'yes', 'YES', ' on ']) {
    assert.equal(value(parseBoolean(s)), true, s);
  }
});

test('booleans accept every IDOL spelling of false, plus no, in any case', () => {
  for (const s of ['FALSE', 'false', 'False', 'OFF', 'off', 'N', 'n', '0', 'no', 'No']) {
    assert.equal(value(parseBoolean(s)), false, s);
  }
});

test('booleans refuse other words with a reason', () => {
  for (const s of ['maybe', '2', '', 'tru', 'enabled']) assert.match(reason(parseBoolean(s)), /not a boolean/);
});

test('integers accept signed whole numbers and refuse trailing text, floats and empty', () => {
  assert.equal(value(parseInteger('42')), 42);
  assert.equal(value(parseInteger(' -7 ')), -7);
  assert.equal(value(parseInteger('+3')), 3);
  for (const s of ['12abc', '1.5', '1e3', '', ' ', '0x10', 'abc']) {
    assert.equal(reason(parseInteger(s)), 'is not an integer', s);
  }
  assert.equal(reason(parseInteger('99999999999999999999')), 'is too large');
});

test('floats accept decimals and exponents and refuse junk', () => {
  assert.equal(value(parseNumber('0.7')), 0.7);
  assert.equal(value(parseNumber('.5')), 0.5);
  assert.equal(value(parseNumber('-2')), -2);
  assert.equal(value(parseNumber('1e3')), 1000);
  for (const s of ['', '1.2.3', '0.7x', 'NaN', 'Infinity']) assert.equal(reason(parseNumber(s)), 'is not a number', s);
});

test('durations convert each unit to milliseconds', () => {
  assert.equal(value(parseDuration('250ms', 's')), 250);
  assert.equal(value(parseDuration('30s', 'ms')), 30_000);
  assert.equal(value(parseDuration('5m', 'ms')), 300_000);
  assert.equal(value(parseDuration('2h', 'ms')), 7_200_000);
  assert.equal(value(parseDuration('7d', 'ms')), 604_800_000);
  assert.equal(value(parseDuration('1.5s', 'ms')), 1500);
  assert.equal(value(parseDuration('30 S', 'ms')), 30_000);
});

test('a bare duration number uses the given unit', () => {
  assert.equal(value(parseDuration('10', 's')), 10_000);
  assert.equal(value(parseDuration('5000', 'ms')), 5000);
});

test('durations refuse unknown units, negatives and empty text', () => {
  for (const s of ['10x', '-5s', '', 's', '5m30s', 'ten']) assert.match(reason(parseDuration(s, 's')), /not a duration/, s);
});

test('byte sizes use binary multiples and a bare number is bytes', () => {
  assert.equal(value(parseByteSize('100')), 100);
  assert.equal(value(parseByteSize('512KB')), 512 * 1024);
  assert.equal(value(parseByteSize('64MB')), 64 * 1024 * 1024);
  assert.equal(value(parseByteSize('64mb')), 64 * 1024 * 1024);
  assert.equal(value(parseByteSize('1GB')), 1024 ** 3);
  assert.equal(value(parseByteSize('1.5KB')), 1536);
  for (const s of ['', 'MB', '64XB', '-1KB']) assert.match(reason(parseByteSize(s)), /not a byte size/, s);
});

test('lists split on commas, trim items and drop empty ones', () => {
  assert.deepEqual(value(parseList('a, b ,c')), ['a', 'b', 'c']);
  assert.deepEqual(value(parseList(' a,,b, ,')), ['a', 'b']);
  assert.deepEqual(value(parseList('')), []);
  assert.deepEqual(value(parseList('single')), ['single']);
});

test('a quoted list item keeps its commas and inner spaces', () => {
  assert.deepEqual(value(parseList('cat,"wing,beak"')), ['cat', 'wing,beak']);
  assert.deepEqual(value(parseList(' " padded " , x')), [' padded ', 'x']);
});

test('an escaped comma outside quotes is part of the item', () => {
  assert.deepEqual(value(parseList('cat,wing\\,beak')), ['cat', 'wing,beak']);
});

test('an escaped quote inside quotes is a literal quote', () => {
  assert.deepEqual(value(parseList('"say \\"hi\\", then go",b')), ['say "hi", then go', 'b']);
});

test('other backslashes and mid-item quotes stay literal, so Windows paths survive', () => {
  assert.deepEqual(value(parseList('C:\\logs\\a.txt,5" disk')), ['C:\\logs\\a.txt', '5" disk']);
});

test('an unterminated quote in a list is an error', () => {
  assert.equal(reason(parseList('a,"b,c')), 'has an unterminated quote');
});
