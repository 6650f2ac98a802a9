// GET /qr/:id.svg: the QR code of a WEB intent's code_url, for next_action.image_url_svg.
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import type { ServiceContext } from '../domain/context.js';
import { notFound } from '../domain/errors.js';

export async function qrRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get<{ Params: { file: string } }>(
    '/qr/:file',
    { schema: { hide: true } as object },
    async (request, reply) => {
      const id = /^(pi_[0-9A-Za-z]{1,60})\.svg$/.exec(request.params.file)?.[1];
      const row = id
        ? await ctx.db
            .selectFrom('payment_intents')
            .select(['next_action', 'status'])
            .where('id', '=', id)
            .executeTakeFirst()
        : undefined;
      const codeUrl = row?.next_action
        ? (JSON.parse(row.next_action) as { wechat_pay_display_qr_code?: { image_data_url?: string } })
            .wechat_pay_display_qr_code?.image_data_url
        : undefined;
      if (!codeUrl || row?.status !== 'requires_action')
        throw notFound('QR code', request.params.file, 'file');
      const svg = await QRCode.toString(codeUrl, { type: 'svg', margin: 1 });
      return reply.type('image/svg+xml').header('cache-control', 'no-store').send(svg);
    },
  );
}
