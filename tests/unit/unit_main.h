/* unit_main.h — given with -include to each tests/unit/test_<name>.c, which
 * is compiled with -Dmain=unit_main_test_<name> (Makefile, UNIT_MULTI): this
 * line is then the prototype of its renamed main(). */
int main(void);
