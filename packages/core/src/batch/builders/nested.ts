import { Field, List, makeData, Struct, type Data, type DataType as ArrowType } from 'apache-arrow';
import type { FieldSpec } from '../../schema/types.js';
import { utf8Text } from '../text-parse.js';
import { BuilderCode, ColumnBuilder } from './base.js';

export type BuilderFactory = (field: FieldSpec, capacity: number) => ColumnBuilder;

/** Nested values arrive as JS arrays/objects, or as JSON text. */
abstract class NestedBuilder extends ColumnBuilder {
  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Text(buf, start, end));
    } catch {
      return `is not valid JSON for ${this.expected}`;
    }
    if (parsed === null) {
      this.appendNull();
      return undefined;
    }
    return this.appendJsValue(parsed);
  }

  protected override appendString(value: string): string | undefined {
    const bytes = Buffer.from(value, 'utf8');
    return this.appendText(bytes, 0, bytes.length);
  }
}

export class ListBuilder extends NestedBuilder {
  readonly code: BuilderCode = BuilderCode.LIST;
  readonly arrowType: List;
  readonly expected: string;
  private offsets: Int32Array;
  private readonly child: ColumnBuilder;

  constructor(field: FieldSpec, capacity: number, factory: BuilderFactory) {
    super(field, capacity);
    if (field.type.kind !== 'list') throw new TypeError('ListBuilder needs a list field');
    this.child = factory({ name: 'element', type: field.type.element, nullable: true }, capacity);
    this.arrowType = new List(new Field('element', this.child.arrowType, true));
    this.expected = `a list of ${this.child.expected}`;
    this.offsets = new Int32Array(this.capacity + 1);
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (!Array.isArray(value)) return `is not ${this.expected}`;
    const before = this.child.length;
    for (let i = 0; i < value.length; i++) {
      const problem = this.child.appendValue(value[i]);
      if (problem !== undefined) {
        this.child.truncate(before);
        return `element ${i} ${problem}`;
      }
    }
    this.ensureCapacity(this.length + 1);
    this.offsets[this.length + 1] = this.child.length;
    this.commitValid();
    return undefined;
  }

  protected appendEmptySlot(): void {
    this.offsets[this.length + 1] = this.child.length;
  }
  protected grow(capacity: number): void {
    const bigger = new Int32Array(capacity + 1);
    bigger.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = bigger;
  }
  protected truncateValues(length: number): void {
    this.child.truncate(this.offsets[length] as number);
  }
  byteLength(): number {
    return this.length * 4 + this.child.byteLength();
  }
  protected reset(): void {
    this.offsets = new Int32Array(this.capacity + 1);
  }
  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    const offsets = this.offsets.subarray(0, length + 1);
    const child = this.child.finish();
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, valueOffsets: offsets, child });
  }
}

export class StructBuilder extends NestedBuilder {
  readonly code: BuilderCode = BuilderCode.STRUCT;
  readonly arrowType: Struct;
  readonly expected: string;
  private readonly children: ColumnBuilder[];

  constructor(field: FieldSpec, capacity: number, factory: BuilderFactory) {
    super(field, capacity);
    if (field.type.kind !== 'struct') throw new TypeError('StructBuilder needs a struct field');
    this.children = field.type.fields.map((f) => factory(f, capacity));
    this.arrowType = new Struct(this.children.map((c) => new Field(c.field.name, c.arrowType as ArrowType, c.field.nullable)));
    this.expected = `an object with ${this.children.map((c) => c.field.name).join(', ')}`;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `is not ${this.expected}`;
    const record = value as Record<string, unknown>;
    const before = this.length;
    for (let i = 0; i < this.children.length; i++) {
      const child = this.children[i] as ColumnBuilder;
      const v = record[child.field.name];
      const problem = v === undefined || v === null ? this.nullChild(child) : child.appendValue(v);
      if (problem !== undefined) {
        for (let j = 0; j < i; j++) (this.children[j] as ColumnBuilder).truncate(before);
        return `field '${child.field.name}' ${problem}`;
      }
    }
    this.ensureCapacity(this.length + 1);
    this.commitValid();
    return undefined;
  }

  private nullChild(child: ColumnBuilder): string | undefined {
    if (!child.field.nullable) return 'is required';
    child.appendNull();
    return undefined;
  }

  protected appendEmptySlot(): void {
    for (const child of this.children) child.appendNull();
  }
  protected grow(): void {}
  protected truncateValues(length: number): void {
    for (const child of this.children) child.truncate(length);
  }
  byteLength(): number {
    let n = 0;
    for (const child of this.children) n += child.byteLength();
    return n;
  }
  protected reset(): void {}
  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    const children = this.children.map((c) => c.finish());
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, children });
  }
}
