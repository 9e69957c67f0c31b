import test from 'ava';
import { email } from '../src/features/notifications/outbox.ts';
import { smsInstruction, smsText } from '../src/features/tickets/messages.ts';

const ticket = { id: 7, priority: 'high', location: 'Bldg 4 & <Lab>', notes: 'Line one\nline two' };

test('the review email has its own subject line, the items one per line and the link', (t) => {
  const message = email('ticket_review', {
    ticket,
    items: ['Cat6 100ft x2', 'OM4 10m x1'],
    requester: 'tess',
    assignee: 'sam',
    reviewUrl: 'https://cable.example/tickets/7/review/abc',
  });
  t.is(message.subject, '[HIGH] Cable request #7 from tess needs your review');
  t.true(message.text.startsWith('Hello sam,\n'));
  t.true(message.text.includes('\n  - Cat6 100ft x2\n  - OM4 10m x1\n'));
  t.true(message.text.includes('Bldg 4 & <Lab>'), 'plain text is not HTML-escaped');
  t.true(message.text.includes('\nhttps://cable.example/tickets/7/review/abc\n'));
  t.true(message.html?.includes('Bldg 4 &amp; &lt;Lab&gt;'), 'the HTML part is escaped');
  t.true(message.html?.includes('href="https://cable.example/tickets/7/review/abc"'));
});

test('the status email names the decision and the reason in the subject and body', (t) => {
  const message = email('ticket_status', {
    ticket,
    items: ['Cat6 100ft x2'],
    status: 'rejected',
    by: 'sam',
    reason: 'No stock',
    link: 'https://cable.example/tickets/7',
    requester: 'tess',
  });
  t.is(message.subject, 'Your cable request #7 was rejected');
  t.true(message.text.startsWith('Hello tess,\n\nYour request #7 for Bldg 4 & <Lab> was rejected by sam.\nReason: No stock\n'));
});

test('an SMS keeps its link whole and fits one 160-character segment', (t) => {
  const link = `https://cable.example/tickets/123456/review/${'x'.repeat(43)}`;
  const long = smsText(`#123456 URGENT cable request from a-very-long-username: ${'Cat6 100ft x2, '.repeat(20)} Review:`, link);
  t.true(long.length <= 160, `${long.length}`);
  t.true(long.endsWith(` ${link}`));
  t.true(long.includes('...'));
  t.false(long.includes('…'), 'GSM-7 only');
  const short = smsText('#1 cable request from tess: Cat6 100ft x2 @ Lab. Review:', link);
  t.is(short, `#1 cable request from tess: Cat6 100ft x2 @ Lab. Review: ${link}`);
});

test('the review SMS says how to reply and keeps that and the link whole in one segment', (t) => {
  const link = `https://tickets.example.com/tickets/12345/review/${'x'.repeat(43)}`;
  const instruction = smsInstruction(12345);
  t.is(instruction, 'Reply YES 12345 or NO 12345 reason.');
  const sms = smsText(
    `#12345 URGENT cable request from a-long-username: ${'Cat6 100ft x2, '.repeat(10)} @ Building 4`,
    link,
    instruction,
  );
  t.true(sms.length <= 160, `${sms.length}`);
  t.true(sms.endsWith(` ${instruction} ${link}`));
  t.true(sms.startsWith('#12345 URGENT cable request'));
  // A link too long for one segment: the instruction and link still go whole, the description goes.
  const longLink = `https://a-very-long-host-name.example.com/${'p'.repeat(100)}`;
  t.is(smsText('#1 request', longLink, smsInstruction(1)), `Reply YES 1 or NO 1 reason. ${longLink}`);
});
