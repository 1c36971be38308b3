import nodemailer, { type Transporter } from 'nodemailer';
import type { ContactChannel } from '../consent/consent.model.js';

export interface OutgoingMessage {
  to: string;
  subject: string;
  body: string;
}

/** One way of delivering a message. Every channel sits behind this, so adding a gateway touches one class. */
export interface MessageChannel {
  readonly channel: ContactChannel;
  /** How it delivers (`smtp`, `log-only`): recorded on the message. */
  readonly via: string;
  deliver(message: OutgoingMessage): Promise<void>;
}

/**
 * Email through an SMTP server with nodemailer (the most used Node mail library: SMTP, TLS, pooling,
 * pure JavaScript). `SMTP_URL` e.g. `smtp://user:pass@mail.example.com:587`.
 */
export class EmailChannel implements MessageChannel {
  readonly channel = 'EMAIL' as const;
  readonly via = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async deliver(message: OutgoingMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: message.to, subject: message.subject, text: message.body });
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * SMS and WeChat: no gateway is configured in this deployment, so the message is only recorded (the
 * message document keeps it, `deliveredVia: log-only`). A real gateway replaces this class.
 */
export class LogOnlyChannel implements MessageChannel {
  readonly via = 'log-only';
  constructor(readonly channel: ContactChannel) {}
  async deliver(): Promise<void> {}
}
