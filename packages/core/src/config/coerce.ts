import { z } from 'zod';

/**
 * Schema helpers for values that arrive as text after `${VAR}` substitution: `port:
 * "${PGPORT:-5432}"` must validate as the number 5432.
 */
export const intLike = z.union([z.number().int(), z.string().trim().regex(/^-?\d+$/, 'expected an integer').transform(Number)]);

export const positiveIntLike = intLike.pipe(z.number().int().positive());

export const numberLike = z.union([z.number(), z.string().trim().regex(/^-?\d+(\.\d+)?$/, 'expected a number').transform(Number)]);

export const boolLike = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', 'yes', 'no', '1', '0', 'on', 'off'].includes(v), 'expected true or false')
    .transform((v) => ['true', 'yes', '1', 'on'].includes(v)),
]);

/** A list that may be written as a single value. */
export function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([z.array(item), item.transform((v) => [v] as z.output<T>[])]);
}
