import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importKeepalived } from '../../../src/cli/import/keepalived.js';
import { parseKeepalivedConf } from '../../../src/cli/import/keepalived-conf.js';
import { importPacemaker } from '../../../src/cli/import/pacemaker.js';

const CIB = `<cib><configuration>
<crm_config/>
<nodes><node id="1" uname="a"/><node id="2" uname="b"/><node id="3" uname="c"/></nodes>
<resources>
<primitive id="x" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="y" class="lsb" type="my svc"/>
<primitive id="fence1" class="stonith" type="fence_ipmilan"/>
</resources>
<constraints>
<rsc_location id="l1" rsc="x" node="c" score="-INFINITY"/>
<rsc_location id="l2" rsc="x" node="b" score="50"/>
<rsc_order id="o1" first="x" then="y"/>
<rsc_location id="l3" rsc="y"><rule id="r" score="10"><expression id="e" attribute="#uname" operation="eq" value="a"/></rule></rsc_location>
</constraints>
</configuration></cib>`;

describe('halo import pacemaker (pure part)', () => {
  it('orders nodes by location score, leaves -INFINITY nodes out, and lists what it cannot convert with its line', () => {
    const draft = importPacemaker(CIB, 'cib.xml');
    assert.deepEqual(draft.groups['x']?.['nodes'], ['b', 'a']);
    assert.deepEqual(draft.groups['y']?.['resources'], {
      y: {
        type: 'script',
        start: `/etc/init.d/'my svc' start`,
        stop: `/etc/init.d/'my svc' stop`,
        check: `/etc/init.d/'my svc' status >/dev/null 2>&1; rc=$?; [ $rc -eq 3 ] && exit 7; exit $rc`,
      },
    });
    const skipped = draft.notes
      .filter((n) => n.kind === 'not converted')
      .map((n) => `${n.where} ${n.message}`);
    assert.deepEqual(skipped, [
      'cib.xml:7 stonith device fence1 (fence_ipmilan): Halo fences by lease expiry and its deadman helper, not by fence devices',
      'cib.xml:12 order o1 (x then y): the two run in different Halo groups, and Halo does not order groups; colocate them (one group) or start them in order yourself',
      "cib.xml:13 location l3 (y): rules, patterns, resource sets and roles are not supported; set the group's node order by hand",
    ]);
  });

  it('refuses what is not a CIB', () => {
    assert.throws(() => importPacemaker('<a><b></a>', 'x.xml'), /x\.xml:1: not well-formed XML/);
    assert.throws(() => importPacemaker('<html/>', 'x.xml'), /not a Pacemaker CIB/);
  });
});

describe('halo import keepalived (pure part)', () => {
  it('reads blocks opened on the next line, quoted words and both comment styles', () => {
    const tree = parseKeepalivedConf('a 1 "two words" # c\nb\n{\n  c ! d\n}\n', 'k.conf');
    assert.deepEqual(tree, [
      { key: 'a', args: ['1', 'two words'], line: 1 },
      { key: 'b', args: [], line: 2, children: [{ key: 'c', args: [], line: 4 }] },
    ]);
    assert.throws(() => parseKeepalivedConf('a {\n', 'k.conf'), /k\.conf: a block is not closed/);
  });

  it('merges a sync group into one group and keeps each instance’s resources apart', () => {
    const conf = `vrrp_sync_group G { group { V1 V2 } }
vrrp_instance V1 { interface eth0
 priority 100
 virtual_ipaddress { 10.0.0.1/24 } }
vrrp_instance V2 { interface eth1
 priority 100
 virtual_ipaddress { 10.0.1.1/24 } }
`;
    const draft = importKeepalived([{ node: 'n1', file: 'k.conf', text: conf }], ['n2']);
    assert.deepEqual(Object.keys(draft.groups), ['G']);
    assert.deepEqual(Object.keys(draft.groups['G']?.['resources'] as object), ['V1-vip1', 'V2-vip1']);
    assert.deepEqual(draft.groups['G']?.['nodes'], ['n1', 'n2']);
  });
});
