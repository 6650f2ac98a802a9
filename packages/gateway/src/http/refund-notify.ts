// POST /notify/wechatpay/:account/refund: the raw body (req_info is decrypted in the domain), answered in WeChat's XML.
import { notifyReply } from '@wxpay/sdk';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../domain/context.js';
import { handleRefundNotify } from '../domain/refund-notify.js';

export async function refundNotifyRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, body),
  );
  app.post<{ Params: { account: string }; Body: Buffer | undefined }>(
    '/notify/wechatpay/:account/refund',
    { schema: { hide: true } as object },
    async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await handleRefundNotify(ctx, request.params.account, raw);
      return reply
        .type('text/xml; charset=utf-8')
        .send(notifyReply(outcome.accepted, outcome.accepted ? 'OK' : outcome.message));
    },
  );
}
