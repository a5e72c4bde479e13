import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/ops/metrics.js';

/**
 * The alert rules as Prometheus evaluates them: promtool (Debian's `prometheus` package; .ci/run installs it) runs
 * every rule against a scrape where it must fire and one where it must not. Labels are what a rule must key on:
 * the carriers here are named gw-a/gw-b, not "primary".
 */
const RULES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'systemd', 'failover-agi.alerts.yml');
const promtool = spawnSync('promtool', ['--version']).status === 0;

type Series = { series: string; values: string };
type Case = { name: string; alert: string; series: Series[]; at: string; fires: Record<string, string>[] };

const h = (carrier: string, state: string, values: string, instance = 'd1'): Series => ({ series: `failover_agi_carrier_health{instance="${instance}",carrier="${carrier}",state="${state}"}`, values });
const pos = (route: string, carrier: string, position: number, instance = 'd1'): Series => ({ series: `failover_agi_route_carrier{instance="${instance}",route="${route}",carrier="${carrier}",position="${position}"}`, values: '1x40' });
const tr = (carrier: string, to: string, values: string): Series => ({ series: `failover_agi_carrier_transitions_total{instance="d1",carrier="${carrier}",to="${to}",source="ami"}`, values });
const att = (carrier: string, verdict: string, values: string): Series => ({ series: `failover_agi_attempts_total{instance="d1",carrier="${carrier}",verdict="${verdict}",sip_code="503"}`, values });
const route = [pos('main', 'gw-a', 1), pos('main', 'gw-b', 2)];
const ch = (carrier: string, what: 'in_use' | 'cap', values: string): Series => ({ series: `failover_agi_carrier_channel${what === 'in_use' ? 's_in_use' : '_cap'}{instance="d1",carrier="${carrier}"}`, values });
const skip = (carrier: string, reason: string, values: string): Series => ({ series: `failover_agi_skips_total{instance="d1",carrier="${carrier}",reason="${reason}"}`, values });

const spend = (carrier: string, window: string, unit: string, values: string): Series => ({ series: `failover_agi_carrier_budget_spend{instance="d1",carrier="${carrier}",window="${window}",unit="${unit}"}`, values });
const budget = (carrier: string, window: string, unit: string, values: string): Series => ({ series: `failover_agi_carrier_budget{instance="d1",carrier="${carrier}",window="${window}",unit="${unit}"}`, values });
const share = (carrier: string, values: string): Series => ({ series: `failover_agi_carrier_budget_alert_share{instance="d1",carrier="${carrier}"}`, values });
const budgeted = (hourMinutes: string, alertShare = '0.8x5'): Series[] => [spend('gw-a', 'hour', 'minutes', hourMinutes), spend('gw-a', 'day', 'minutes', hourMinutes), budget('gw-a', 'hour', 'minutes', '600x5'), share('gw-a', alertShare)];

const CASES: Case[] = [
  { name: 'the primary (position 1) down for 2 minutes pages, with its route', alert: 'FailoverAgiPrimaryCarrierDown', series: [...route, h('gw-a', 'down', '0 1x10')], at: '3m', fires: [{ severity: 'page', instance: 'd1', carrier: 'gw-a', state: 'down', route: 'main' }] },
  { name: 'a second carrier down is not the primary', alert: 'FailoverAgiPrimaryCarrierDown', series: [...route, h('gw-b', 'down', '0 1x10')], at: '3m', fires: [] },
  { name: 'a second carrier down warns', alert: 'FailoverAgiCarrierDown', series: [...route, h('gw-b', 'down', '0 1x10')], at: '4m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-b', state: 'down' }] },
  { name: 'the primary down is not the warn rule (it pages instead)', alert: 'FailoverAgiCarrierDown', series: [...route, h('gw-a', 'down', '0 1x10')], at: '4m', fires: [] },
  { name: 'lagged for 6 minutes is degraded', alert: 'FailoverAgiCarrierDegraded', series: [h('gw-a', 'lagged', '1x10')], at: '6m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-a', state: 'lagged' }] },
  { name: 'most Dials failing is degraded', alert: 'FailoverAgiCarrierDegraded', series: [h('gw-a', 'up', '1x20'), att('gw-a', 'next', '0+3x20'), att('gw-a', 'answered', '0+1x20')], at: '15m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-a' }] },
  { name: 'an up carrier with few failures is not degraded', alert: 'FailoverAgiCarrierDegraded', series: [h('gw-a', 'up', '1x20'), att('gw-a', 'next', '0+1x20'), att('gw-a', 'answered', '0+5x20')], at: '15m', fires: [] },
  { name: 'down, then up again: back up', alert: 'FailoverAgiCarrierBackUp', series: [h('gw-b', 'up', '1 0 0 0 1 1 1'), tr('gw-b', 'down', '0 1 1 1 1 1 1'), tr('gw-b', 'up', '0 0 0 0 1 1 1')], at: '5m', fires: [{ severity: 'info', instance: 'd1', carrier: 'gw-b', state: 'up' }] },
  { name: 'up from the start (a restart) is not "back up"', alert: 'FailoverAgiCarrierBackUp', series: [h('gw-b', 'up', '1x6'), tr('gw-b', 'up', '0 1 1 1 1 1 1')], at: '5m', fires: [] },
  { name: 'the primary back up: back on the primary', alert: 'FailoverAgiBackOnPrimary', series: [...route, h('gw-a', 'up', '1 0 0 0 1 1 1'), tr('gw-a', 'down', '0 1 1 1 1 1 1'), tr('gw-a', 'up', '0 0 0 0 1 1 1')], at: '5m', fires: [{ severity: 'info', instance: 'd1', carrier: 'gw-a', state: 'up', route: 'main' }] },
  { name: 'a second carrier back up is not back on the primary', alert: 'FailoverAgiBackOnPrimary', series: [...route, h('gw-b', 'up', '1 0 0 0 1 1 1'), tr('gw-b', 'down', '0 1 1 1 1 1 1'), tr('gw-b', 'up', '0 0 0 0 1 1 1')], at: '5m', fires: [] },
  { name: 'every channel in use for 6 minutes: at cap', alert: 'FailoverAgiCarrierAtCap', series: [ch('gw-b', 'in_use', '30x10'), ch('gw-b', 'cap', '30x10')], at: '6m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-b' }] },
  { name: 'at the channel cap for 3 minutes, then below it: not "for minutes"', alert: 'FailoverAgiCarrierAtCap', series: [ch('gw-b', 'in_use', '30 30 30 30 29 29 29 29 29 29'), ch('gw-b', 'cap', '30x10')], at: '7m', fires: [] },
  { name: 'busy under its cap is not at cap', alert: 'FailoverAgiCarrierAtCap', series: [ch('gw-b', 'in_use', '29x10'), ch('gw-b', 'cap', '30x10')], at: '6m', fires: [] },
  { name: 'a carrier with no cap (no cap series) is never at cap', alert: 'FailoverAgiCarrierAtCap', series: [ch('gw-a', 'in_use', '300x10')], at: '6m', fires: [] },
  { name: 'calls skipped at the cps cap every minute for 6 minutes: at cap', alert: 'FailoverAgiCarrierAtCap', series: [skip('gw-a', 'cps_cap', '0+4x10')], at: '7m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-a' }] },
  { name: 'one burst over the cps cap, then none: not at cap', alert: 'FailoverAgiCarrierAtCap', series: [skip('gw-a', 'cps_cap', '0 5 5 5 5 5 5 5 5 5')], at: '7m', fires: [] },
  { name: 'skips for other reasons are not at cap', alert: 'FailoverAgiCarrierAtCap', series: [skip('gw-a', 'down', '0+4x10')], at: '7m', fires: [] },
  { name: 'a budget 85 % used with alertShare 0.8 is near, for its window and unit', alert: 'FailoverAgiCarrierBudgetNear', series: budgeted('510x5'), at: '1m', fires: [{ severity: 'info', instance: 'd1', carrier: 'gw-a', window: 'hour', unit: 'minutes' }] },
  { name: '70 % used is not near', alert: 'FailoverAgiCarrierBudgetNear', series: budgeted('420x5'), at: '1m', fires: [] },
  { name: 'the carrier\'s own alertShare: 85 % is not near at 0.9', alert: 'FailoverAgiCarrierBudgetNear', series: budgeted('510x5', '0.9x5'), at: '1m', fires: [] },
  { name: 'used up is no longer near (the used rule says it)', alert: 'FailoverAgiCarrierBudgetNear', series: budgeted('600x5'), at: '1m', fires: [] },
  { name: 'a budget used up fires at once, for the window with the budget only', alert: 'FailoverAgiCarrierBudgetUsed', series: budgeted('600x5'), at: '1m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-a', window: 'hour', unit: 'minutes' }] },
  { name: '599 of 600 minutes is not used up', alert: 'FailoverAgiCarrierBudgetUsed', series: budgeted('599x5'), at: '1m', fires: [] },
  { name: 'spend without a budget never fires', alert: 'FailoverAgiCarrierBudgetUsed', series: [spend('gw-b', 'hour', 'minutes', '9000x5')], at: '1m', fires: [] },
  { name: 'demoted for quality for 20 minutes (one prefix group): one alert per carrier', alert: 'FailoverAgiCarrierDemoted', series: [{ series: 'failover_agi_carrier_quality_demoted{instance="d1",carrier="gw-a",prefix_group=""}', values: '0x30' }, { series: 'failover_agi_carrier_quality_demoted{instance="d1",carrier="gw-a",prefix_group="uk-mobile"}', values: '1x30' }], at: '20m', fires: [{ severity: 'warn', instance: 'd1', carrier: 'gw-a' }] },
  { name: 'demoted for 10 minutes, then back: no alert', alert: 'FailoverAgiCarrierDemoted', series: [{ series: 'failover_agi_carrier_quality_demoted{instance="d1",carrier="gw-a",prefix_group=""}', values: '1x10 0x20' }], at: '20m', fires: [] },
  { name: 'in its place: no alert', alert: 'FailoverAgiCarrierDemoted', series: [{ series: 'failover_agi_carrier_quality_demoted{instance="d1",carrier="gw-a",prefix_group=""}', values: '0x30' }], at: '20m', fires: [] },
  { name: 'AMI lost where it is on', alert: 'FailoverAgiAmiDisconnected', series: [{ series: 'failover_agi_ami_connected{instance="d1"}', values: '0x10' }, { series: 'failover_agi_ami_enabled{instance="d1"}', values: '1x10' }], at: '5m', fires: [{ severity: 'warn', instance: 'd1' }] },
  { name: 'AMI off (ami.enabled false): never "disconnected"', alert: 'FailoverAgiAmiDisconnected', series: [{ series: 'failover_agi_ami_connected{instance="d1"}', values: '0x10' }, { series: 'failover_agi_ami_enabled{instance="d1"}', values: '0x10' }], at: '5m', fires: [] },
  { name: 'the cluster view lost where shared health is on', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '1 0x10' }, { series: 'failover_agi_cluster_spend_up{instance="d1"}', values: '1x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '1x10' }], at: '3m', fires: [{ severity: 'warn', instance: 'd1' }] },
  { name: 'the peers\' spend no longer read (cluster budgets stale) is the view lost too', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '1x10' }, { series: 'failover_agi_cluster_spend_up{instance="d1"}', values: '1 0x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '1x10' }], at: '3m', fires: [{ severity: 'warn', instance: 'd1' }] },
  { name: 'both views lost: one alert, not two', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '1 0x10' }, { series: 'failover_agi_cluster_spend_up{instance="d1"}', values: '1 0x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '1x10' }], at: '3m', fires: [{ severity: 'warn', instance: 'd1' }] },
  { name: 'a dialer without cluster_spend_up (an older version) is judged on shared health alone', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '1 0x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '1x10' }], at: '3m', fires: [{ severity: 'warn', instance: 'd1' }] },
  { name: 'a 30 s blip of the shared table is no alert', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '1 0 1x10' }, { series: 'failover_agi_cluster_spend_up{instance="d1"}', values: '1x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '1x10' }], at: '3m', fires: [] },
  { name: 'shared health off (cluster.enabled false): never "view lost"', alert: 'FailoverAgiClusterViewLost', series: [{ series: 'failover_agi_cluster_up{instance="d1"}', values: '0x10' }, { series: 'failover_agi_cluster_spend_up{instance="d1"}', values: '0x10' }, { series: 'failover_agi_cluster_enabled{instance="d1"}', values: '0x10' }], at: '5m', fires: [] },
  { name: 'every carrier of a route down', alert: 'FailoverAgiAllCarriersOfRouteDown', series: [{ series: 'failover_agi_route_usable_carriers{instance="d1",route="main"}', values: '0x5' }], at: '2m', fires: [{ severity: 'page', instance: 'd1', route: 'main' }] },
  { name: 'one usable carrier left is no "all down"', alert: 'FailoverAgiAllCarriersOfRouteDown', series: [{ series: 'failover_agi_route_usable_carriers{instance="d1",route="main"}', values: '1x5' }], at: '2m', fires: [] },
  { name: 'the daemon not answering its scrape (job failover-agi)', alert: 'FailoverAgiDown', series: [{ series: 'up{job="failover-agi",instance="d1"}', values: '0x5' }], at: '3m', fires: [{ severity: 'page', job: 'failover-agi', instance: 'd1' }] },
  { name: 'the daemon answering', alert: 'FailoverAgiDown', series: [{ series: 'up{job="failover-agi",instance="d1"}', values: '1x5' }], at: '3m', fires: [] },
];

/** The rules without their annotations: promtool compares annotations too, and those are prose for people. */
function rulesWithoutAnnotations(text: string): string {
  const out: string[] = [];
  let skipDeeperThan = -1;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (skipDeeperThan >= 0 && (line.trim() === '' || indent > skipDeeperThan)) continue;
    skipDeeperThan = -1;
    if (line.trim() === 'annotations:') {
      skipDeeperThan = indent;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

describe('alert rules', { skip: promtool ? false : 'promtool not installed (apt-get install prometheus)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fa-alerts-'));
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, rulesWithoutAnnotations(readFileSync(RULES, 'utf8')));

  test('promtool accepts the shipped file as it is', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  for (const c of CASES) {
    test(`${c.alert}: ${c.name} → ${c.fires.length > 0 ? 'fires' : 'silent'}`, () => {
      // YAML is a superset of JSON: the test file is written as JSON
      const spec = {
        rule_files: [rules],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: c.series, alert_rule_test: [{ eval_time: c.at, alertname: c.alert, exp_alerts: c.fires.map((l) => ({ exp_labels: l })) }] }],
      };
      const file = join(dir, `${c.alert}-${CASES.indexOf(c)}.json`);
      writeFileSync(file, JSON.stringify(spec));
      const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }

  test('every failover_agi_* series a rule reads is one the daemon exports', async () => {
    const m = createMetrics({ activeCalls: () => 0, health: () => new Map(), routes: () => [], now: () => 0 });
    const exported = new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
    const used = new Set([...readFileSync(RULES, 'utf8').matchAll(/\bfailover_agi_[a-z_]+/g)].map((x) => x[0]));
    for (const name of used) assert.ok(exported.has(name), `${name} is used by a rule but not exported`);
  });
});
