import { z } from 'zod';
import { MSG, msg } from '../presentation/messages';

/**
 * The login form: both fields must be filled in before an attempt is made. An empty field is a
 * form error, not a wrong password, and counts nothing toward the account's lockout.
 */
export const loginFormSchema = z.object({
  email: z.string(msg(MSG.text)).trim().min(1, msg(MSG.required)),
  password: z.string(msg(MSG.text)).min(1, msg(MSG.required)),
});
export type LoginForm = z.infer<typeof loginFormSchema>;
