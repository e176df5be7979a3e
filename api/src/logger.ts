import { pino, type Logger } from 'pino';

/** Structured JSON logs. Request lines carry no headers and no key values (see the serializers in http/app.ts). */
export function createLogger(level: string): Logger {
  return pino({ level });
}
