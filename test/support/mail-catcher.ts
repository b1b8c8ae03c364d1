// A local test mail server for development (`npm run mail:catch`): it accepts every message on
// 127.0.0.1 (port MAIL_PORT, default 2525) and prints who it is for, its subject, its unsubscribe
// headers and its text, so that reminders can be seen without a real mailbox. Start the API with
// SMTP_URL=smtp://127.0.0.1:2525 beside it (docs/reminders.md). Development only: it prints bodies.
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

const port = Number(process.env.MAIL_PORT ?? 2525);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onData(stream, _session, callback) {
    simpleParser(stream)
      .then((mail) => {
        const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : (mail.to?.text ?? "");
        console.log(`--- ${new Date().toISOString()} to ${to} from ${mail.from?.text ?? ""}`);
        console.log(`Subject: ${mail.subject ?? ""}`);
        const unsubscribe = mail.headers.get("list-unsubscribe");
        if (unsubscribe) console.log(`List-Unsubscribe: ${JSON.stringify(unsubscribe)}`);
        console.log((mail.text ?? "").trim());
        callback();
      })
      .catch(callback);
  },
});
server.listen(port, "127.0.0.1", () => console.log(`Catching mail on smtp://127.0.0.1:${port} (Ctrl-C to stop)`));
process.on("SIGINT", () => server.close(() => process.exit(0)));
