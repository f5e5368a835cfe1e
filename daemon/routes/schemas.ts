/** The error body every route may answer with: `{ error: { code, message, field? } }`. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** An error answer with what it means for this route (OpenAPI response description). */
export const errorResponse = (description: string) => ({ ...errorSchema, description }) as const;
