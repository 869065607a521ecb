/**
 * The little of net-snmp (no published types) that the snmp receiver uses: an SNMPv2c session
 * that sends one trap. https://github.com/markabrahams/node-net-snmp#sessiontrap
 */
declare module 'net-snmp' {
  export const Version2c: number;
  export const ObjectType: { readonly Integer: number; readonly OctetString: number };
  export interface Varbind {
    oid: string;
    type: number;
    value: string | number;
  }
  export interface Session {
    trap(oid: string, varbinds: Varbind[], callback: (error: Error | null) => void): void;
    close(): void;
    on(event: 'error', listener: (error: Error) => void): void;
  }
  export function createSession(
    target: string,
    community: string,
    options: { version: number; trapPort: number; transport?: 'udp4' | 'udp6' },
  ): Session;
  const snmp: {
    Version2c: typeof Version2c;
    ObjectType: typeof ObjectType;
    createSession: typeof createSession;
  };
  export default snmp;
}
