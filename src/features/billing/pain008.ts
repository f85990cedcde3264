import type { SequenceType } from './entities.ts'

/*
 * The ISO 20022 customer direct debit initiation (pain.008.001.02) a bank takes from the creditor,
 * as the SEPA Core scheme restricts it: one payment information block per sequence type and
 * collection date, each transaction with its mandate, the debtor's account and a remittance text.
 */

export interface Creditor {
  name: string
  /** Identifiant créancier SEPA (ICS). */
  creditorId: string
  iban: string
  bic: string
}

export interface DebitLine {
  endToEndId: string
  /** Cents. */
  amount: number
  sequenceType: SequenceType
  collectedOn: string
  mandateId: string
  signedOn: string
  debtorName: string
  debtorIban: string
  debtorBic: string
  remittance: string
}

export interface DebitFile {
  messageId: string
  createdAt: Date
  creditor: Creditor
  lines: DebitLine[]
}

/**
 * Text as the SEPA character set allows it (Latin letters without accents, digits, / - ? : ( ) . , ' +
 * and space), cut to the field's length: banks refuse a file with anything else.
 */
export function sepaText(text: string, max: number): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’‘]/g, "'")
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max)
}

const euros = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`

const xmlText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;')

const sum = (lines: DebitLine[]) => lines.reduce((total, l) => total + l.amount, 0)

/** The pain.008.001.02 document of a debit file, UTF-8, indented. */
export function painXml(file: DebitFile): string {
  const { creditor } = file
  const groups = new Map<string, DebitLine[]>()
  for (const line of file.lines) {
    const key = `${line.sequenceType} ${line.collectedOn}`
    groups.set(key, [...(groups.get(key) ?? []), line])
  }
  const blocks = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, lines], i) => {
      const [sequenceType, collectedOn] = key.split(' ') as [SequenceType, string]
      return `    <PmtInf>
      <PmtInfId>${xmlText(`${file.messageId}-${i + 1}`)}</PmtInfId>
      <PmtMtd>DD</PmtMtd>
      <NbOfTxs>${lines.length}</NbOfTxs>
      <CtrlSum>${euros(sum(lines))}</CtrlSum>
      <PmtTpInf>
        <SvcLvl><Cd>SEPA</Cd></SvcLvl>
        <LclInstrm><Cd>CORE</Cd></LclInstrm>
        <SeqTp>${sequenceType}</SeqTp>
      </PmtTpInf>
      <ReqdColltnDt>${collectedOn}</ReqdColltnDt>
      <Cdtr><Nm>${xmlText(sepaText(creditor.name, 70))}</Nm></Cdtr>
      <CdtrAcct><Id><IBAN>${creditor.iban}</IBAN></Id></CdtrAcct>
      <CdtrAgt><FinInstnId><BIC>${creditor.bic}</BIC></FinInstnId></CdtrAgt>
      <ChrgBr>SLEV</ChrgBr>
      <CdtrSchmeId>
        <Id><PrvtId><Othr><Id>${xmlText(creditor.creditorId)}</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id>
      </CdtrSchmeId>
${lines.map(transaction).join('\n')}
    </PmtInf>`
    })
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <CstmrDrctDbtInitn>
    <GrpHdr>
      <MsgId>${xmlText(file.messageId)}</MsgId>
      <CreDtTm>${file.createdAt.toISOString().slice(0, 19)}</CreDtTm>
      <NbOfTxs>${file.lines.length}</NbOfTxs>
      <CtrlSum>${euros(sum(file.lines))}</CtrlSum>
      <InitgPty><Nm>${xmlText(sepaText(creditor.name, 70))}</Nm></InitgPty>
    </GrpHdr>
${blocks.join('\n')}
  </CstmrDrctDbtInitn>
</Document>
`
}

function transaction(line: DebitLine): string {
  return `      <DrctDbtTxInf>
        <PmtId><EndToEndId>${xmlText(line.endToEndId)}</EndToEndId></PmtId>
        <InstdAmt Ccy="EUR">${euros(line.amount)}</InstdAmt>
        <DrctDbtTx><MndtRltdInf><MndtId>${xmlText(line.mandateId)}</MndtId><DtOfSgntr>${line.signedOn}</DtOfSgntr></MndtRltdInf></DrctDbtTx>
        <DbtrAgt><FinInstnId><BIC>${line.debtorBic}</BIC></FinInstnId></DbtrAgt>
        <Dbtr><Nm>${xmlText(sepaText(line.debtorName, 70))}</Nm></Dbtr>
        <DbtrAcct><Id><IBAN>${line.debtorIban}</IBAN></Id></DbtrAcct>
        <RmtInf><Ustrd>${xmlText(sepaText(line.remittance, 140))}</Ustrd></RmtInf>
      </DrctDbtTxInf>`
}
