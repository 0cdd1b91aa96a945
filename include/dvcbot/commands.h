/* commands — the subcommands of the dvcbot binary (see DESIGN.md).
 * Each returns the process exit status. */
#ifndef DVCBOT_COMMANDS_H
#define DVCBOT_COMMANDS_H

int cmd_serve(int argc, char **argv);    /* the service */
int cmd_chat(int argc, char **argv);     /* dialog engine in a terminal, channel cli */
int cmd_classify(int argc, char **argv); /* stdin lines → "<id>\t<score>" */
int cmd_check(int argc, char **argv);    /* validate intents/ and templates/ */
int cmd_import(int argc, char **argv);   /* dossier export file → Redis */

#endif
