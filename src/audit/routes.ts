import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Page } from '../common-schemas.ts'
import { problemResponses } from '../errors.ts'
import { AuditEntrySchema, AuditListQuery } from './schemas.ts'
import * as audit from './service.ts'

export const auditSchemas = [AuditEntrySchema]

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit', {
    config: { access: 'admin' },
    schema: {
      operationId: 'listAuditEntries',
      summary: 'The audit trail, newest first: who (key) did what to which object, and when',
      description: 'Returns a page of the audit trail, newest first: each entry says which key did what (action) to which object, and when. Filter by objectType, objectId, keyId or action to trace one article\'s or one key\'s history.',
      tags: ['Access'],
      querystring: AuditListQuery,
      response: { 200: Page(Type.Unsafe({ $ref: 'AuditEntry#' }), 'AuditEntry'), ...problemResponses(400) }
    }
  }, async (request) => await audit.readMany(app.db, request.query))
}
