import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Logger } from 'pino';

/** One email: plain text and HTML, to one mailbox. */
export interface MailMessage {
  to: { name: string; address: string };
  replyTo?: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  attachments?: { filename: string; content: string; contentType: string }[];
}

export interface Mailer {
  /** Whether mail really leaves (SMTP_URL is set) or is only logged. */
  readonly delivers: boolean;
  /** MAIL_FROM's address (a calendar invitation without an organizer of its own names it). */
  readonly fromAddress: string;
  /** Resolves once the SMTP server accepted the message; rejects with the server's or the connection's error. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** Limits on one SMTP conversation, so that a message's lease (see the booking mailer) outlasts its attempt. */
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;

/**
 * The platform's outgoing mail: nodemailer over SMTP_URL (`smtp://` upgrades with STARTTLS when the server
 * offers it, `smtps://` is TLS from the start), from MAIL_FROM. Without SMTP_URL (development) every message
 * is written to the log at info level instead, and counts as sent.
 */
export function createMailer(options: { smtpUrl: string | null; from: string; logger: Logger }): Mailer {
  const { smtpUrl, from, logger } = options;
  const fromAddress = (addressparser(from)[0] as { address?: string } | undefined)?.address || from;
  if (!smtpUrl) {
    logger.info('SMTP_URL is not set: emails are written to the log, not sent');
    return {
      delivers: false,
      fromAddress,
      async send(message) {
        logger.info(
          { mail: { from, to: message.to, subject: message.subject, text: message.text } },
          'email not sent (no SMTP_URL)',
        );
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(
    {
      url: smtpUrl,
      pool: true,
      maxConnections: 3,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    },
    { from },
  );
  return {
    delivers: true,
    fromAddress,
    async send(message) {
      await transport.sendMail({
        to: message.to,
        replyTo: message.replyTo,
        subject: message.subject,
        text: message.text,
        html: message.html,
        attachments: message.attachments,
      });
    },
    close() {
      transport.close();
    },
  };
}

/**
 * Whether a failed send certainly left the message undelivered: the server answered with an error code, or
 * no connection was made. Anything else (a connection lost mid-conversation, a timeout) may have come after
 * the server took the message.
 */
export function certainlyNotDelivered(error: unknown): boolean {
  const { responseCode, command, code } = (error ?? {}) as {
    responseCode?: unknown;
    command?: unknown;
    code?: unknown;
  };
  return typeof responseCode === 'number' || command === 'CONN' || code === 'ECONNECTION' || code === 'EDNS';
}
