import type { Knex } from 'knex';
import { APP_ROLE, guardSiteTables, OF_SITE, runAll } from './sql.js';

const SCHEMA = 'mod_booking';
const TABLES = ['services', 'staff', 'service_staff', 'schedule_overrides', 'slots', 'bookings', 'notifications'];

/**
 * The booking module's tables (first-party: they come with the server, and its manifest names this
 * migration). Every table carries its site, so uninstalling, purging and row-level security work on it like
 * on any module's collections. No double booking is the database's own rule: a `slots` row holds a staff
 * member's time (with the service's buffers), an exclusion constraint keeps two holds of one person from
 * overlapping, and a check keeps a group session's seats within its capacity. See
 * docs/decisions/0013-booking-module.md.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE EXTENSION IF NOT EXISTS btree_gist`,
    `CREATE SCHEMA ${SCHEMA}`,
    `GRANT USAGE ON SCHEMA ${SCHEMA} TO ${APP_ROLE}`,
    `CREATE TABLE ${SCHEMA}.services (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       name text NOT NULL,
       description text NOT NULL DEFAULT '',
       duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
       price_amount bigint CHECK (price_amount >= 0),
       price_currency text,
       buffer_before_minutes integer NOT NULL DEFAULT 0,
       buffer_after_minutes integer NOT NULL DEFAULT 0,
       minimum_notice_minutes integer NOT NULL DEFAULT 0,
       booking_window_days integer NOT NULL DEFAULT 60,
       slot_interval_minutes integer NOT NULL CHECK (slot_interval_minutes > 0),
       capacity integer NOT NULL DEFAULT 1 CHECK (capacity > 0),
       questions jsonb NOT NULL DEFAULT '[]',
       reminder_offsets_minutes integer[] NOT NULL DEFAULT '{1440,60}',
       active boolean NOT NULL DEFAULT true,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE},
       UNIQUE (site_id, id),
       CHECK ((price_amount IS NULL) = (price_currency IS NULL)))`,
    `CREATE INDEX services_site ON ${SCHEMA}.services (site_id, id)`,
    `CREATE TABLE ${SCHEMA}.staff (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       name text NOT NULL,
       email text,
       time_zone text NOT NULL,
       weekly_hours jsonb NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE},
       UNIQUE (site_id, id))`,
    `CREATE INDEX staff_site ON ${SCHEMA}.staff (site_id, id)`,
    `CREATE TABLE ${SCHEMA}.service_staff (
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       service_id uuid NOT NULL,
       staff_id uuid NOT NULL,
       position integer NOT NULL DEFAULT 0,
       PRIMARY KEY (service_id, staff_id),
       FOREIGN KEY (site_id, service_id) REFERENCES ${SCHEMA}.services (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, staff_id) REFERENCES ${SCHEMA}.staff (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX service_staff_staff ON ${SCHEMA}.service_staff (staff_id)`,
    // A date's hours replace the weekly ones; no hours is a day off.
    `CREATE TABLE ${SCHEMA}.schedule_overrides (
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       staff_id uuid NOT NULL,
       date date NOT NULL,
       hours jsonb NOT NULL DEFAULT '[]',
       PRIMARY KEY (staff_id, date),
       FOREIGN KEY (site_id, staff_id) REFERENCES ${SCHEMA}.staff (site_id, id) ON DELETE CASCADE)`,
    // A staff member's held time: one booking's, or a group session's (its bookings share it, up to capacity).
    `CREATE TABLE ${SCHEMA}.slots (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       staff_id uuid NOT NULL,
       service_id uuid NOT NULL,
       starts_at timestamptz NOT NULL,
       blocked tstzrange NOT NULL,
       capacity integer NOT NULL,
       seats_taken integer NOT NULL,
       CHECK (seats_taken > 0 AND seats_taken <= capacity),
       CONSTRAINT no_double_booking EXCLUDE USING gist (staff_id WITH =, blocked WITH &&),
       FOREIGN KEY (site_id, staff_id) REFERENCES ${SCHEMA}.staff (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, service_id) REFERENCES ${SCHEMA}.services (site_id, id) ON DELETE CASCADE)`,
    `CREATE TABLE ${SCHEMA}.bookings (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       service_id uuid NOT NULL,
       staff_id uuid NOT NULL,
       slot_id uuid REFERENCES ${SCHEMA}.slots ON DELETE SET NULL,
       starts_at timestamptz NOT NULL,
       ends_at timestamptz NOT NULL,
       time_zone text NOT NULL,
       seats integer NOT NULL DEFAULT 1 CHECK (seats > 0),
       status text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
       name text NOT NULL,
       email text NOT NULL,
       phone text,
       answers jsonb NOT NULL DEFAULT '{}',
       page_url text,
       sequence integer NOT NULL DEFAULT 0,
       cancelled_at timestamptz,
       cancelled_by text CHECK (cancelled_by IN ('visitor', 'staff')),
       cancellation_reason text,
       rescheduled_at timestamptz,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE},
       FOREIGN KEY (site_id, staff_id) REFERENCES ${SCHEMA}.staff (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, service_id) REFERENCES ${SCHEMA}.services (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX bookings_site_start ON ${SCHEMA}.bookings (site_id, starts_at, id)`,
    `CREATE INDEX bookings_slot ON ${SCHEMA}.bookings (slot_id)`,
    // Emails to send: confirmations now, reminders later. The worker claims due rows across tenants.
    `CREATE TABLE ${SCHEMA}.notifications (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       booking_id uuid NOT NULL REFERENCES ${SCHEMA}.bookings ON DELETE CASCADE,
       kind text NOT NULL CHECK (kind IN ('confirmation', 'cancellation', 'rescheduled', 'reminder')),
       recipient text NOT NULL CHECK (recipient IN ('visitor', 'staff')),
       sequence integer NOT NULL,
       -- Set when the email is about another person or time than the booking's now (a booking handed from one
       -- staff member to another tells the first about the time they had): null, the booking's.
       staff_id uuid,
       starts_at timestamptz,
       ends_at timestamptz,
       send_at timestamptz NOT NULL,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
       attempts integer NOT NULL DEFAULT 0,
       lease_until timestamptz,
       sent_at timestamptz,
       last_error text,
       created_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE},
       UNIQUE (booking_id, kind, recipient, sequence, send_at))`,
    `CREATE INDEX notifications_due ON ${SCHEMA}.notifications (send_at) WHERE status IN ('pending', 'sending')`,
    ...guardSiteTables(SCHEMA, TABLES),
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP SCHEMA ${SCHEMA} CASCADE`]);
}
